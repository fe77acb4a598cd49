"""Image code every layer shares: the frame type, optical flow with its occlusion check, warping, resizing.

The bottom layer: it imports nothing from rotoscope but ``rotoscope.errors`` (the layer
contracts in pyproject.toml check this), so media/, models/, stylize/, consistency/ and
methods/ can all use it without importing each other.
"""

#: the optical-flow algorithms core/flow.py computes; named here so option checks and --help read them
#: without loading OpenCV
FLOW_METHODS = ("dis", "farneback")
