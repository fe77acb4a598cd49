"""The web UI: `rotoscope ui` — one local gradio page over the library.

Importing this package turns gradio's analytics off before gradio is imported
(gradio otherwise looks up its own and the hub's hosts at start): nothing
leaves the machine.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
