"""The catalog: the one list of methods and what each declares, readable without the heavy libraries."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from rotoscope.errors import OptionError
from rotoscope.methods import get_method
from rotoscope.methods.catalog import (METHOD_NAMES, Capabilities, Prepares, Redo, Sources, Timeline, capabilities,
                                       method_class, methods_with)

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_names_in_order_and_each_class_holds_its_entry():
    assert METHOD_NAMES == ("gif2gif", "animatediff", "img2vid", "keyframes", "ebsynth")
    for name in METHOD_NAMES:
        method = get_method(name)
        assert method.name == name and type(method) is method_class(name)
        assert method.capabilities is capabilities(name)


def test_what_the_methods_declare():
    assert methods_with(per_frame=True) == ("gif2gif",)
    assert methods_with(control=True) == ("gif2gif", "keyframes", "ebsynth")
    assert methods_with(options="video") == ("animatediff", "img2vid")
    assert methods_with(options="keys") == ("keyframes", "ebsynth")
    assert methods_with(options=None) == ("gif2gif",)
    assert methods_with(diffusion_only=True) == ("animatediff", "img2vid")
    assert methods_with(needs_source=False) == methods_with(strength=False) == ("img2vid",)
    assert methods_with(timeline=Timeline.OWN) == ("img2vid",)
    assert methods_with(sources="all") == ("keyframes", "ebsynth")  # the enums are strings too
    assert methods_with(redo=Redo.KEY_SEGMENT) == methods_with(prepares=Prepares.KEYS) == ("keyframes", "ebsynth")
    img2vid = capabilities("img2vid")
    assert (img2vid.sources, img2vid.redo, img2vid.prepares) == (Sources.NONE, Redo.CLIP, Prepares.STILL)


def test_capabilities_are_frozen_and_unknown_names_are_the_users_mistake():
    with pytest.raises(dataclasses.FrozenInstanceError):
        capabilities("gif2gif").per_frame = False  # type: ignore[misc]
    with pytest.raises(OptionError, match="--method 'gif3gif' is not known; use one of gif2gif, animatediff"):
        capabilities("gif3gif")
    with pytest.raises(TypeError, match="no field colour"):
        methods_with(colour=True)
    assert isinstance(capabilities("ebsynth"), Capabilities)


def test_the_catalog_loads_no_heavy_library():
    """Option checks and faces read the catalog; it must not pull numpy, OpenCV, torch or diffusers.
    The bare ``rotoscope`` package stands in for the top-level one, whose own imports are not the catalog's."""
    code = (
        "import sys, types\n"
        f"package = types.ModuleType('rotoscope'); package.__path__ = [{str(SRC / 'rotoscope')!r}]\n"
        "sys.modules['rotoscope'] = package\n"
        "from rotoscope.methods.catalog import METHOD_NAMES, capabilities\n"
        "import rotoscope.methods\n"
        "[capabilities(n) for n in METHOD_NAMES]\n"
        "print(sorted(m for m in ('numpy', 'cv2', 'PIL', 'av', 'torch', 'diffusers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
