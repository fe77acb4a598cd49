"""Commands that need no model start without the model stack.

Each command runs in a fresh interpreter under ``-X importtime``, the way the console
script runs it (``from rotoscope.cli import main; main()``); the modules it imported are
read from that report. ``--help`` imports no media libraries either; ``probe`` and
``convert`` import none of torch, diffusers, transformers, gradio. A failure names the
chain of imports that pulled the module in. Times are measured in bench/startup.py, never here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import clips

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "cup.mp4"
MODEL_STACK = {"torch", "diffusers", "transformers", "gradio"}
MEDIA_STACK = {"av", "numpy", "cv2", "PIL", "scipy"}
ENTRY = "import sys; sys.argv[0] = 'rotoscope'; from rotoscope.cli import main; main()"


def imports_of(*args: str, cwd: Path = ROOT) -> tuple[list[tuple[int, str]], subprocess.CompletedProcess]:
    """Run ``rotoscope ARGS`` under -X importtime: (depth, module) of every import, in report order."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", ENTRY, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    modules = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1]
            stripped = name.lstrip()
            if stripped != "package":  # the header line
                modules.append(((len(name) - len(stripped) - 1) // 2, stripped))
    return modules, proc


def chain(modules: list[tuple[int, str]], i: int) -> str:
    """'a ← b ← c': the module at ``i`` and who imported it (importtime lists a module after its imports)."""
    depth, name = modules[i]
    names = [name]
    for d, n in modules[i + 1:]:
        if d < depth:
            names.append(n)
            depth = d
    return " ← ".join(names)


def assert_none_of(banned: set[str], modules: list[tuple[int, str]]) -> None:
    # Importing any submodule imports its top-level package, which then has a line of its own.
    found = [chain(modules, i) for i, (_, name) in enumerate(modules) if name in banned]
    assert not found, "imported: " + "; ".join(found)


def test_help_imports_no_model_or_media_library():
    modules, proc = imports_of("--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "convert" in proc.stdout and modules, proc.stdout
    assert_none_of(MODEL_STACK | MEDIA_STACK, modules)


def test_probe_imports_no_model_library():
    modules, proc = imports_of("probe", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "h264" in proc.stdout
    assert_none_of(MODEL_STACK, modules)


@pytest.mark.parametrize("output", ["out.gif", "out.mp4"])
def test_convert_imports_no_model_library(tmp_path, output):
    clip = clips.moving_box_clip(tmp_path / "box.mp4")
    modules, proc = imports_of("convert", str(clip), "--fps", "5", "--width", "64", "-o", str(tmp_path / output))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / output).stat().st_size > 0
    assert_none_of(MODEL_STACK, modules)


def test_import_rotoscope_is_lazy():
    """``import rotoscope`` loads only the package itself; its API names still resolve."""
    code = ("import sys, rotoscope; assert rotoscope.__version__; "
            "print(sorted(m for m in sys.modules if m.startswith('rotoscope') or m.split('.')[0] in "
            f"{sorted(MODEL_STACK | MEDIA_STACK)!r})); "
            "import rotoscope.stylize.options; "
            "print(callable(rotoscope.stylize), rotoscope.JobSpec.__name__, rotoscope.RotoscopeError.__name__)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["['rotoscope']", "True JobSpec RotoscopeError"]


@pytest.mark.parametrize("args", [["--help"], ["convert", "--help"]])
def test_cached_help_prints_what_typer_prints(tmp_path, args):
    """rotoscope.cli.fast_help: a miss runs typer and stores its text, a hit replays it, and both equal
    what the typer app prints itself."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ROTOSCOPE_CACHE": str(tmp_path), "COLUMNS": "100"}

    def run(module: str) -> str:
        code = f"import sys; sys.argv[0] = 'rotoscope'; from {module} import main; main()"
        proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    def typer_itself() -> str:
        code = "import sys; sys.argv[0] = 'rotoscope'; from rotoscope.cli.commands import app; app()"
        proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    real = typer_itself()
    assert run("rotoscope.cli") == real  # miss: typer renders, the text is stored
    assert len(list((tmp_path / "help").glob("*.txt"))) == 1
    assert run("rotoscope.cli") == real  # hit
