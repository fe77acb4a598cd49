"""The declared option model: every option once, with everything a face needs to show and check it.

An option is a dataclass field declared with :func:`option`. Its metadata (:class:`Option`) holds the
type, default, range or choices, help text, help panel, the method / technique / mask that owns it,
its infotext key and its A1111 API field name. The CLI's parameters, the web page's controls, the
Python API's keywords, the infotext writer and reader and the options reference page are all
generated from these declarations (``rotoscope.jobs.table`` lists them for a whole job), and
:func:`check_fields` does every per-field check, so no face keeps a rule of its own.

Owners are how cross-option rules are derived: an option owned by the ``loopback`` technique that
differs from its default while ``loopback`` is not chosen is refused, naming both.

This module imports nothing heavy (it sits just above ``core`` in the layers): choices that live in a
registry higher up are given as a zero-argument callable, evaluated only when needed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError

_MISSING = dataclasses.MISSING

#: panel names, in the order help and the page show them
PANELS = ("Method", "Look", "Model", "Media", "Output", "Mask", "Consistency", "ControlNet", "Keyframes",
          "Video", "Speed")


@dataclass(frozen=True)
class Owner:
    """Who an option belongs to: ``kind`` is "method", "technique" or "mask"; ``names`` are the owners
    (any one of them active makes the option meaningful)."""

    kind: str
    names: tuple[str, ...] = ()

    def describe(self) -> str:
        names = " or ".join(self.names)
        if self.kind == "method":
            return f"--method {names}"
        if self.kind == "technique":
            return f"the {names} technique (--consistency {names})"
        return "a mask (--mask, --mask-rect, --mask-ellipse, --mask-key or --mask-from-alpha)"


def method(*names: str) -> Owner:
    return Owner("method", names)


def technique(*names: str) -> Owner:
    return Owner("technique", names)


MASK = Owner("mask")


@dataclass(frozen=True)
class Option:
    """Metadata of one option. ``name`` (the Python keyword) and ``flag`` (the CLI spelling) default to
    the field's name; ``group`` and ``field`` are filled in when a table is built."""

    help: str
    panel: str
    name: str | None = None
    flag: str | None = None
    short: str | None = None  # one-letter CLI alias, e.g. -p
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    strict_choices: bool = True  # False: choices are suggestions (the sampler also takes a diffusers class name)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the range excludes ``low`` (strength is in (0, 1])
    allow: tuple[Any, ...] = ()  # values accepted outside the range (seed -1 = random)
    hint: str = ""  # appended to range errors: what a sensible value is
    owner: Owner | None = None
    infotext: str | None = None  # infotext key; None = not recorded
    a1111: str | None = None  # A1111 API field name, where one exists
    parse: Callable[[str], Any] | None = None  # text (CLI, page) → value; default: by type
    show: Callable[[Any], str] | None = None  # value → text (infotext, CLI default)
    widget: str | None = None  # page control when the type alone does not say: textarea | radio | file | multiselect
    split: str | None = None  # list options given as one text: the separator between items (None: one item)
    group: str = ""
    field: str = ""
    default: Any = None
    kind: Any = None  # the field's type hint

    @property
    def key(self) -> str:
        return self.name or self.field

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.key.replace("_", "-")

    def choice_list(self) -> tuple[str, ...]:
        choices = self.choices() if callable(self.choices) else self.choices
        return tuple(choices or ())

    @property
    def base_type(self) -> Any:
        """int, float, str, bool or list (of str / tuples), without Optional."""
        hint = self.kind
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            hint = args[0] if len(args) == 1 else str
        return list if typing.get_origin(hint) is list else hint

    @property
    def optional(self) -> bool:
        return typing.get_origin(self.kind) in (typing.Union, types.UnionType) and type(None) in typing.get_args(self.kind)

    def format(self, value: Any) -> str:
        if self.show is not None:
            return self.show(value)
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value)
        return str(value)

    def read(self, text: str) -> Any:
        """A value from text, as the CLI or the page gives it."""
        kind = self.base_type
        if kind is list:
            return self.read_list(text)
        if self.parse is not None:
            return self.parse(text)
        try:
            if kind is bool:
                lowered = str(text).strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError(text)
                return lowered in ("true", "1", "yes", "on")
            if kind is int:
                return int(text)
            if kind is float:
                return float(text)
            if kind is list:
                return self.read_list(text)
        except ValueError:
            what = {int: "a whole number", float: "a number", bool: "true or false"}.get(kind, "valid")
            raise OptionError(f"{self.cli_flag} {text!r} is not {what}; {self.help}") from None
        return str(text)

    def read_list(self, value: Any) -> list:
        """A list option's value from one text (split on ``split``) or a list; each text item parsed."""
        texts = [value] if isinstance(value, str) else list(value)
        items: list = []
        for item in texts:  # "a,b" given once, or "--consistency a --consistency b", or both
            if isinstance(item, str):
                parts = [p.strip() for p in item.split(self.split)] if self.split else [item.strip()]
                items.extend(self.parse(p) if self.parse is not None else p for p in parts if p)
            else:
                items.append(item)
        return items

    def check(self, value: Any) -> None:
        """Type, choices and range of one value; the message names the flag, the value and what is allowed."""
        if value is None:
            if not self.optional:
                raise OptionError(f"{self.cli_flag} needs a value; {self.help}")
            return
        kind = self.base_type
        if kind is bool and not isinstance(value, bool):
            raise OptionError(f"{self.cli_flag} {value!r} must be true or false.")
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise OptionError(f"{self.cli_flag} {value!r} must be a number.")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise OptionError(f"{self.cli_flag} {value!r} must be a whole number.")
        if kind is str and not isinstance(value, str):
            raise OptionError(f"{self.cli_flag} {value!r} must be text.")
        if kind is list and not isinstance(value, (list, tuple)):
            raise OptionError(f"{self.cli_flag} {value!r} must be a list.")
        if value in self.allow:
            return
        choices = self.choice_list()
        if choices and self.strict_choices:
            items = value if kind is list else [value]
            for item in items:
                if item not in choices:
                    raise OptionError(f"{self.cli_flag} {item!r} is not known; use one of {', '.join(choices)}.")
        if kind in (int, float) and (self.low is not None or self.high is not None):
            below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
            above = self.high is not None and value > self.high
            if below or above:
                allowed = "".join(f"{_number(v)} or " for v in self.allow)
                raise OptionError(f"{self.cli_flag} {_number(value)} must be {allowed}{self.range_text()}"
                                  f"{'; ' + self.hint if self.hint else ''}.")

    def range_text(self) -> str:
        low, high = (_number(v) if v is not None else None for v in (self.low, self.high))
        if low is not None and high is not None:
            return f"in ({low}, {high}]" if self.low_open else f"between {low} and {high}"
        if low is not None:
            return f"more than {low}" if self.low_open else f"{low} or more"
        return f"at most {high}"


def _number(value: float) -> str:
    """A number as the user typed it: whole numbers in full (4294967295, not 4.29497e+09)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def option(default: Any = _MISSING, *, factory: Callable[[], Any] | None = None, **meta: Any) -> Any:
    """A dataclass field carrying its :class:`Option` metadata (keyword arguments of Option)."""
    info = Option(**meta)
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"option": info})
    return dataclasses.field(default=default, metadata={"option": info})


def declared(cls: type, group: str = "") -> list[Option]:
    """The options of one dataclass, completed with their group, field, default and type."""
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        info = f.metadata.get("option")
        if info is None:
            continue
        default = f.default if f.default is not _MISSING else f.default_factory()  # type: ignore[misc]
        found.append(dataclasses.replace(info, group=group, field=f.name, default=default, kind=hints[f.name]))
    return found


def check_fields(obj: Any) -> None:
    """Every declared field of one options dataclass: type, choices, range."""
    for info in declared(type(obj)):
        info.check(getattr(obj, info.field))


__all__ = ["MASK", "Option", "Owner", "PANELS", "check_fields", "declared", "method", "option", "technique"]
