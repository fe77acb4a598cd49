"""Every option of a job in one flat table, by name: what the CLI, the page, the Python API and infotext
are generated from.

A job option is a field of :class:`JobSpec` or of one of its option groups, declared once where it lives
(``media/options.py``, ``stylize/options.py``, …) with :func:`rotoscope.options.option`. The few
options that are not a field of their own (the preset, ``--from``, the ControlNet units' folders and
models) are declared here, as :data:`EXTRAS`.
"""

from __future__ import annotations

import functools

from ..consistency.options import ConsistencyOptions
from ..errors import OptionError
from ..media.options import MediaOptions, OutputOptions
from ..methods.keys import KeyOptions
from ..stylize.video_options import VideoOptions
from ..models.options import ModelOptions
from ..options import PANELS, Option, declared
from ..stylize.mask_options import MaskOptions
from ..stylize.options import StyleOptions
from .spec import JobSpec

#: JobSpec attribute → its options dataclass
GROUPS: dict[str, type] = {"media": MediaOptions, "model": ModelOptions, "style": StyleOptions, "output": OutputOptions,
                           "mask": MaskOptions, "consistency": ConsistencyOptions, "video": VideoOptions,
                           "keys": KeyOptions}


def _preset_names() -> list[str]:
    from ..stylize.presets import preset_names

    return preset_names()


#: options that set several fields or come from outside the spec (resolved by jobs/build.py)
EXTRAS: tuple[Option, ...] = (
    Option(name="preset", panel="Speed", choices=_preset_names, kind=str | None,
           help="quality | balanced | fast: sets the speed options (the ones you give win). balanced = bf16 (CPU) / "
           "fp16 (CUDA) + step cache; fast = that + LCM-LoRA (4 steps, CFG 1) + TAESD, or 2 steps CFG 0 with an "
           "SD-Turbo model."),
    Option(name="from_", flag="--from", panel="Look", kind=str | None, widget="textarea",
           help="Take the settings from a PNG/GIF/MP4 of ours (or a web-UI PNG), or pasted infotext; the options you "
           "give win."),
    Option(name="control_image_dir", panel="ControlNet", kind=list[str], default=[],
           help="Precomputed control frames [TYPE=]DIR (one image per frame, natural order) instead of the annotator; "
           "repeatable, in --control order."),
    Option(name="control_model", panel="ControlNet", kind=list[str], default=[],
           help="ControlNet for a type: TYPE=MODEL (hub id, diffusers folder, .safetensors file or tiny). Default: "
           "lllyasviel/control_v11*_sd15_TYPE (tiny with --model tiny)."),
    # where a job runs, not what it is: never in job.json's look, the settings hash or infotext (executors/)
    Option(name="executor", panel="Speed", choices=("local", "ray"), kind=str, default="local",
           help="Where the frames are stylised: local (this process) | ray (Ray actors; --workers starts a local "
           "cluster, --ray joins one). Never changes the frames."),
    Option(name="workers", panel="Speed", kind=int, default=0, low=0, high=4096,
           help="Ray actors, each holding the model (implies --executor ray; without --ray a local cluster bound to "
           "127.0.0.1 is started for the run). 0 = local run, or one per GPU (else per CPU) of a --ray cluster."),
    Option(name="ray", panel="Speed", kind=str | None,
           help="Address of an existing Ray cluster (HOST:PORT of its head, or auto); implies --executor ray."),
    Option(name="ray_token", panel="Speed", kind=str | None,
           help="The --ray cluster's auth token (default: $RAY_AUTH_TOKEN); without one a warning is printed when "
           "the cluster accepts anyone."),
)

#: the options of EXTRAS that say where a job runs (taken out before a JobSpec is built)
WHERE = ("executor", "workers", "ray", "ray_token")

#: old spellings, refused with a one-line error naming the new one
RENAMED = {"scale_width": "width", "scale_height": "height", "cfg": "cfg_scale", "techniques": "consistency",
           "outputs": "output", "loras": "lora", "embeddings": "embedding", "config": "model_config"}


@functools.cache
def job_options() -> tuple[Option, ...]:
    """Every job option, in panel order (method first), each with its group and field filled in."""
    found = list(declared(JobSpec))
    for group, cls in GROUPS.items():
        found.extend(declared(cls, group))
    found.extend(EXTRAS)
    names = [o.key for o in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:  # a declaration error, caught by the tests
        raise RuntimeError(f"job options declared twice under one name: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda o: PANELS.index(o.panel)))


@functools.cache
def by_name() -> dict[str, Option]:
    return {o.key: o for o in job_options()}


def lookup(name: str) -> Option:
    """The option called ``name`` (Python keyword); old spellings and typos get an error that names the fix."""
    table = by_name()
    if name in table:
        return table[name]
    if name in RENAMED:
        new = table[RENAMED[name]]
        raise OptionError(f"{name} (--{name.replace('_', '-')}) is now {new.key} ({new.cli_flag}): {new.help}")
    import difflib

    close = difflib.get_close_matches(name, list(table), n=1)
    hint = f"did you mean {close[0]}?" if close else "see docs/options.md for every option."
    raise OptionError(f"unknown option {name!r}; {hint}")


def panels() -> dict[str, list[Option]]:
    """Options by help panel, in panel order (the page lays out one accordion each)."""
    grouped: dict[str, list[Option]] = {p: [] for p in PANELS}
    for info in job_options():
        grouped[info.panel].append(info)
    return {p: items for p, items in grouped.items() if items}
