"""Documentation that cannot rot: every command in README.md and docs/*.md runs here, as written.

What runs
---------
- Each page's fenced ``bash`` / ``sh`` blocks: ``\\`` continuations are joined, blank and comment lines
  skipped, and every line must be one of
  * ``rotoscope …`` or ``.venv/bin/rotoscope …``: run in-process (``typer.testing.CliRunner`` on
    ``rotoscope.cli.app``); it must exit 0, and the files it names (``-o/--output``, ``--plot``, ``--out-dir``,
    ``--sheet``) must exist afterwards;
  * ``bash scripts/X`` or ``[.venv/bin/]python scripts/X``: the script must exist (not run here:
    ``scripts/test.sh`` is this test suite, ``scripts/demo.sh`` installs; its rotoscope command is
    run by ``test_demo_script_command``; ``scripts/make_doc_inputs.py`` runs before every page).
  Any other line fails the test: a documented command the test cannot run does not belong in a
  shell block.
- Each page's ``python`` blocks: executed (``exec``) in the same folder, after the shell blocks
  above them.
- The ``Example: rotoscope …`` lines of ``rotoscope --help`` and every command's ``--help``.

Where
-----
A page runs top to bottom in one fresh folder holding ``samples/`` (a link to the repository's) and
``out/inputs/`` (what ``scripts/make_doc_inputs.py`` writes: masks, a green-screen clip, a
transparent clip, a local model folder). So a page may use only ``samples/cup.mp4``, those inputs,
and files an earlier command on the same page wrote. Each help example runs in a fresh folder too;
one that reads a file under ``out/`` gets it from the earlier example that writes it.

Substitutions (only for what cannot run offline; nothing else is changed)
-------------------------------------------------------------------------
| written in the docs                                            | run here as                    |
| --------------------------------------------------------------- | ------------------------------ |
| ``--model ORG/NAME`` / ``-m ORG/NAME`` (a hub id, not a path)   | ``--model tiny``               |
| ``run`` / ``preview`` with no ``--model`` and no ``--from``     | ``--model tiny`` added (the    |
|   (the default model is the hub's SD 1.5)                       |   default is a hub id)         |
| ``--vae ORG/…taesd…`` (hub TAESD)                               | ``--vae tiny`` (tiny TAESD)    |
| ``--vae ORG/NAME`` (another hub VAE)                            | dropped (the model's own)      |
| ``--lcm-lora ORG/NAME``                                         | ``--lcm-lora auto`` (tiny's)   |
| ``--lora ORG/NAME[:W]``                                         | dropped                        |
| ``--motion-adapter ORG/NAME``, ``--video-model ORG/NAME``       | dropped (tiny ones with tiny)  |
| ``--control-model TYPE=ORG/NAME``                               | dropped (tiny ControlNet)      |
| ``rotoscope ui …``, ``rotoscope serve …`` (serve until stopped) | started in a child process on  |
|                                                                 |   a free port, checked that it |
|                                                                 |   answers HTTP, kept running   |
|                                                                 |   for the page, then stopped   |
| python: ``model="ORG/NAME"`` / ``"model": "ORG/NAME"``          | ``"tiny"``                     |
| python: ``127.0.0.1:PORT`` (the ``rotoscope ui`` above it)      | that server's free port        |

``--preset fast`` needs no substitution: with ``--model tiny`` its LCM-LoRA and TAESD are the tiny
model's own, built offline.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGS = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
MODEL_TAKING = ("run", "preview")
OUTPUT_FLAGS = ("-o", "--output", "--plot", "--sheet", "--out-dir")
UI_START_S = 240  # a cold start imports gradio: generous on a busy 2-core machine (not a timing assertion)

from tests.servers import free_port, stop


# ----------------------------------------------------------------------------------------------- parsing

@dataclass
class Block:
    lang: str
    text: str
    line: int  # 1-based line of the opening fence


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        lang = match.group(1).lower()
        if lang in SHELL_LANGS or lang == "python":
            found.append(Block("shell" if lang in SHELL_LANGS else "python", match.group(2),
                               text.count("\n", 0, match.start()) + 1))
    return found


def shell_lines(text: str) -> list[str]:
    """The block's commands: continuations joined, blank and comment lines dropped."""
    joined = re.sub(r"\\\n[ \t]*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def rotoscope_argv(line: str) -> list[str] | None:
    """The arguments after ``rotoscope`` (trailing ``# comments`` dropped), or None for another command."""
    for prefix in ("rotoscope ", ".venv/bin/rotoscope "):
        if line.startswith(prefix):
            return shlex.split(line[len(prefix):], comments=True)
    return None


def script_of(line: str) -> str | None:
    match = re.match(r"^(?:bash|(?:\.venv/bin/)?python3?)\s+(scripts/\S+)", line)
    return match.group(1) if match else None


# ------------------------------------------------------------------------------------------ substitution

def is_hub_id(value: str, cwd: Path) -> bool:
    return bool(HUB_ID.match(value)) and not (cwd / value).exists()


def value_of(argv: list[str], *flags: str) -> str | None:
    for i, arg in enumerate(argv):
        for flag in flags:
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return None


def substitute(argv: list[str], cwd: Path) -> list[str]:
    """The documented substitutions (module docstring) for hub models; everything else unchanged."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg, value = argv[i], argv[i + 1] if i + 1 < len(argv) else None
        flag = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if "=" in arg and arg.startswith("--"):
            value, step = arg.split("=", 1)[1], 1
        else:
            step = 2
        if value is not None and flag in ("--model", "-m") and is_hub_id(value, cwd):
            out += [flag, "tiny"]
        elif value is not None and flag == "--vae" and is_hub_id(value, cwd):
            if "taesd" in value.lower():
                out += ["--vae", "tiny"]
        elif value is not None and flag == "--lcm-lora" and is_hub_id(value, cwd):
            out += ["--lcm-lora", "auto"]
        elif value is not None and flag == "--lora" and is_hub_id(value.rsplit(":", 1)[0], cwd):
            pass
        elif value is not None and flag in ("--motion-adapter", "--video-model") and is_hub_id(value, cwd):
            pass
        elif value is not None and flag == "--control-model" and "=" in value and is_hub_id(value.split("=", 1)[1], cwd):
            pass
        else:
            out.append(arg)
            i += 1
            continue
        i += step
    if out and out[0] in MODEL_TAKING and value_of(out, "--model", "-m") is None and value_of(out, "--from") is None:
        out += ["--model", "tiny"]
    return out


def substitute_python(code: str, ports: dict[int, int]) -> str:
    def model(match: re.Match) -> str:
        return match.group(1) + match.group(2) + "tiny" + match.group(2)

    code = re.sub(r"""(\bmodel\s*=\s*|["']model["']\s*:\s*)(["'])[A-Za-z0-9][\w.-]*/[\w.-]+\2""", model, code)
    return re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports.get(int(m.group(1)), int(m.group(1)))}", code)


# ------------------------------------------------------------------------------------------------ running

@dataclass
class Session:
    """One folder where a page's commands run in order, with the servers its ``rotoscope ui`` lines started."""

    cwd: Path
    where: str
    servers: dict[int, tuple[int, subprocess.Popen]] = field(default_factory=dict)  # documented port → (port, process)

    def run(self, argv: list[str], line: str) -> None:
        argv = substitute(argv, self.cwd)
        if argv and argv[0] in ("ui", "serve") and "--help" not in argv:  # servers: started, checked, stopped
            return self.start_ui(argv, line)
        from typer.testing import CliRunner

        from rotoscope.cli import app

        result = CliRunner().invoke(app, argv)
        output = "\n".join(text for text in result.output.splitlines() if "━" not in text)
        detail = f"{self.where}: `{line}`\nran as: rotoscope {shlex.join(argv)}\nexit {result.exit_code}\n{output[-3000:]}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(detail) from result.exception
        assert result.exit_code == 0, detail
        for path in outputs_of(argv):
            target = self.cwd / path
            assert target.exists(), f"{detail}\n{path} was not written"
            if path.endswith("/"):
                assert any(target.iterdir()), f"{detail}\n{path} is empty"

    def start_ui(self, argv: list[str], line: str) -> None:
        documented = int(value_of(argv, "--port") or 7860)
        if documented in self.servers:
            self.stop(documented)
        port = free_port()
        args = [a for a in argv]
        if "--port" in args:
            args[args.index("--port") + 1] = str(port)
        else:
            args += ["--port", str(port)]
        src = Path(__import__("rotoscope").__file__).resolve().parents[1]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
        log = open(self.cwd / f"ui-{port}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "rotoscope.cli", *args], cwd=self.cwd, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.servers[documented] = (port, process)
        deadline = time.monotonic() + UI_START_S
        while True:
            if process.poll() is not None:
                log.close()
                raise AssertionError(f"{self.where}: `{line}` exited {process.returncode}:\n"
                                     f"{(self.cwd / f'ui-{port}.log').read_text(errors='replace')[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (e.g. 401 before signing in with --auth)
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.where}: `{line}` did not answer HTTP on port {port}:\n"
                                     f"{(self.cwd / f'ui-{port}.log').read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)

    def ports(self) -> dict[int, int]:
        return {documented: port for documented, (port, _) in self.servers.items()}

    def stop(self, documented: int) -> None:
        _, process = self.servers.pop(documented)
        stop(process)

    def close(self) -> None:
        for documented in list(self.servers):
            self.stop(documented)


def outputs_of(argv: list[str]) -> list[str]:
    found = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in OUTPUT_FLAGS]
    found += [arg.split("=", 1)[1] for arg in argv if arg.split("=", 1)[0] in OUTPUT_FLAGS[1:] and "=" in arg]
    return found


@pytest.fixture(scope="session")
def doc_inputs(tmp_path_factory) -> Path:
    """scripts/make_doc_inputs.py run once; each page's folder gets a copy of its out/inputs/."""
    root = tmp_path_factory.mktemp("doc_inputs")
    script = ROOT / "scripts" / "make_doc_inputs.py"
    argv = sys.argv
    try:
        sys.argv = [str(script), str(root / "inputs")]
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    return root / "inputs"


@pytest.fixture()
def workdir(tmp_path, doc_inputs, monkeypatch) -> Path:
    (tmp_path / "samples").symlink_to(ROOT / "samples", target_is_directory=True)
    shutil.copytree(doc_inputs, tmp_path / "out" / "inputs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------------------------------------- tests

def test_options_page_is_generated_from_the_option_model():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_options_doc
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    committed = (ROOT / "docs" / "options.md").read_text(encoding="utf-8")
    assert committed == make_options_doc.render(), (
        "docs/options.md is out of date with the option model; regenerate it with "
        "`.venv/bin/python scripts/make_options_doc.py` and commit the result")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_commands_run(page: Path, workdir: Path):
    session = Session(workdir, str(page.relative_to(ROOT)))
    ran = 0
    try:
        for block in blocks(page):
            where = f"{page.relative_to(ROOT)}:{block.line}"
            if block.lang == "python":
                code = substitute_python(block.text, session.ports())
                exec(compile(code, where, "exec"), {"__name__": "__docs__"})
                ran += 1
                continue
            for line in shell_lines(block.text):
                argv = rotoscope_argv(line)
                if argv is not None:
                    session.where = where
                    session.run(argv, line)
                    ran += 1
                    continue
                script = script_of(line)
                assert script is not None, (f"{where}: `{line}` is neither a rotoscope command nor a script: "
                                            "the docs test cannot run it (keep shell blocks runnable)")
                assert (ROOT / script).is_file(), f"{where}: `{line}`: {script} does not exist"
    finally:
        session.close()
    if page.name not in ("options.md", "design.md"):
        assert ran, f"{page.relative_to(ROOT)} has no command or Python example"


def help_examples() -> list[tuple[str, str]]:
    """(command, example line) from `rotoscope --help` and each command's help, in the order help lists them."""
    import typer

    from rotoscope.cli import app

    group = typer.main.get_command(app)
    found = []
    for name, text in [("rotoscope", group.help or "")] + [(n, c.help or "") for n, c in group.commands.items()]:
        for line in text.splitlines():
            if line.strip().startswith("Example: rotoscope "):
                found.append((name, line.strip().removeprefix("Example: ")))
    return found


def test_help_examples_run(tmp_path, monkeypatch):
    examples = help_examples()
    assert {name for name, _ in examples} >= {"rotoscope", "probe", "convert", "preview", "run", "keys", "score", "ui"}
    for number, (name, line) in enumerate(examples):
        folder = tmp_path / f"{number:02d}-{name}"
        folder.mkdir()
        (folder / "samples").symlink_to(ROOT / "samples", target_is_directory=True)
        monkeypatch.chdir(folder)
        session = Session(folder, f"`rotoscope {'' if name == 'rotoscope' else name + ' '}--help` example")
        try:
            argv = rotoscope_argv(line)
            outputs = set(outputs_of(argv))
            for needed in [a for a in argv if a.startswith("out/") and a not in outputs]:
                makers = [other for _, other in examples[:number] if needed in outputs_of(rotoscope_argv(other))]
                assert makers, f"{session.where}: `{line}` reads {needed}, which no earlier example writes"
                session.run(rotoscope_argv(makers[-1]), makers[-1])
            session.run(argv, line)
        finally:
            session.close()


def test_demo_script_command(workdir: Path):
    """README's `bash scripts/demo.sh` ends in one rotoscope command: it runs as written (offline, classic)."""
    text = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    lines = [line for line in shell_lines(text) if ".venv/bin/rotoscope " in line]
    assert len(lines) == 1, "scripts/demo.sh should end in one .venv/bin/rotoscope command"
    line = lines[0].removeprefix("exec ").replace('"$@"', "").strip()
    Session(workdir, "scripts/demo.sh").run(rotoscope_argv(line), line)
