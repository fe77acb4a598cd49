"""CLI parameters generated from the option model: a command declares which options it takes, and gets a
typer signature with their flags, help, panels and defaults — no hand-written parameter lists.

Every generated parameter defaults to ``None`` (not given), so ``--from`` and ``--preset`` fill only what
the user did not type; the help shows the declared default.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Optional

import typer
from typer._coercion import RuntimeParam
from typer.core import TyperCommand, TyperGroup

from ..options import Option

#: flags that were renamed (old → new option name); see jobs/table.py RENAMED
RENAMED_FLAGS = {"scale_width": "width", "scale_height": "height"}


def _default(info: Option) -> Any:
    """The declared default as the CLI shows it (lists and empty values: no default shown)."""
    if info.default in (None, [], "") or info.base_type is list:
        return None
    # shown as the declaration writes it (7, not 7.0); a default value never reaches the spec (see command())
    if info.base_type is float or (info.parse is not None and info.base_type is int):
        return info.format(info.default)
    return info.default


def _help(info: Option) -> str:
    text = info.help
    if info.choices is not None and info.base_type is not list and info.key != "method":
        text += " One of: " + " | ".join(info.choice_list()) + "."
    elif info.low is not None and info.high is not None and info.key not in ("seed",):
        text += f" Range {info.range_text().removeprefix('between ').replace(' and ', '–')}."
    return text


def parameter(info: Option) -> inspect.Parameter:
    """One typer parameter for one option."""
    kind = info.base_type
    if kind is list:
        annotation: Any = Optional[list[str]]
    elif kind is bool:  # a flag, whatever its infotext spelling
        annotation = Optional[bool]
    else:  # text, read by the declaration (int, float, --max-size 1.5MB): one reader, one message shape
        annotation = Optional[str]
    decls = [f"{info.cli_flag}/--no-{info.cli_flag[2:]}"] if kind is bool else [info.cli_flag]
    if info.short:
        decls.append(info.short)
    meta = typer.Option(*decls, help=_help(info), rich_help_panel=info.panel, metavar=_metavar(info),
                        show_default=_default(info) is not None)
    return inspect.Parameter(info.key, inspect.Parameter.KEYWORD_ONLY, default=_default(info),
                             annotation=Annotated[annotation, meta])


def _metavar(info: Option) -> str | None:
    kind = info.base_type
    if kind is bool:
        return None
    if info.key == "control":
        return "TYPE[:W[:START-END]]"
    if info.key == "lora":
        return "FILE[:WEIGHT]"
    if info.parse is not None and kind is not str:
        return "TEXT"  # read from text by the declaration, e.g. --max-size 1.5MB
    return {int: "INT", float: "NUMBER", list: "TEXT"}.get(kind, "TEXT")


def command(func: Callable[..., Any], options: Iterable[Option], own: list[inspect.Parameter]) -> Callable[..., Any]:
    """``func(**values)`` with a signature of its ``own`` parameters followed by one per option. Options the
    user did not type are dropped (click tells where each value came from), so ``--from`` and ``--preset``
    fill them and the help can still show the declared defaults."""
    options = list(options)
    keys = {o.key for o in options}
    # old spellings stay parseable so that they get a one-line error naming the new flag
    old = [name for name, new in RENAMED_FLAGS.items() if new in keys]

    @functools.wraps(func)
    def typed(ctx: typer.Context, **values: Any) -> Any:
        for name in old:
            if values.pop(name, None) is not None:
                from ..api import option

                option(name)  # raises: "--scale-width is now --width …"
        for key in keys:
            source = ctx.get_parameter_source(key)
            if source is None or source.name == "DEFAULT":
                values.pop(key, None)
        return func(**values)

    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    hidden = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                annotation=Annotated[Optional[str], typer.Option("--" + name.replace("_", "-"), hidden=True)])
              for name in old]
    typed.__signature__ = inspect.Signature([context, *own, *(parameter(o) for o in options), *hidden])  # type: ignore[attr-defined]
    return typed


def with_where(func: Callable[..., Any], signature: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """A face's command (``ui``, ``serve``: its own typer parameters, read from ``signature`` or else ``func``,
    and ``**where``) that also takes the options saying where its jobs run (--executor/--workers/--ray/--ray-token,
    declared in jobs/table.py)."""
    from ..api import where_options

    params = inspect.signature(signature or func, eval_str=True).parameters.values()
    own = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return command(func, where_options(), own)


class _Quiet:
    """Flags show no ``<bool>`` type in the help: a flag takes no value."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option

    def get_params(self, ctx: Any) -> list:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            _keep_text(param)
        return params


@dataclass(frozen=True)
class _Text(RuntimeParam):
    """Values as click parsed them: text (the option model reads it), flags, lists of text."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        return list(value) if isinstance(value, (list, tuple)) else value


def _keep_text(param: Any) -> None:
    """Typer coerces every value through a pydantic TypeAdapter; importing pydantic and building the
    adapters costs about as much as ffmpeg's whole GIF conversion. Text, flags and lists of text need no
    coercion (the option model reads them), so those parameters pass their values through."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return
    if descriptor.annotation in (str, bool, list[str]):
        param._runtime_param = _Text(annotation=descriptor.annotation, parameter_info=descriptor.parameter_info)


class Command(_Quiet, TyperCommand):
    pass


class Group(_Quiet, TyperGroup):
    pass


def own(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """A command's own (non-job) parameter, e.g. the source argument or --json."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Parameter(name, kind, default=default, annotation=annotation)


Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Source = Annotated[str, typer.Argument(help="Video (mp4, mov, webm, mkv, avi), GIF, animated WebP/APNG, image, folder of images or a glob.", show_default=False)]
