"""Temporal consistency: a family of techniques with one signature, and a registry by name.

``--consistency per-frame|shared-noise`` picks the noise mode (``StyleOptions.noise``);
every other name adds a technique (:class:`~.base.Technique`): ``prepare(step)`` before
the model, ``finish(step)`` after it. See ``techniques.py`` for what each costs.
"""

from __future__ import annotations

# The names load on first use (PEP 562): the option declarations in consistency/options.py are read by
# ``rotoscope --help``, which must not pay for numpy and OpenCV.
_LAZY = {"TECHNIQUES": "registry", "build_techniques": "registry", "post_filter": "registry",
         "History": "base", "Step": "base", "Technique": "base",
         "ConsistencyOptions": "options", "parse_consistency": "options"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["TECHNIQUES", "ConsistencyOptions", "History", "Step", "Technique", "build_techniques",
           "parse_consistency", "post_filter"]
