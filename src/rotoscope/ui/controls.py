"""The page's settings, generated from the option model: one control per job option, one accordion per panel.

Nothing here knows a particular option: the control, its label, range, choices, default and help come from
the option's declaration (:mod:`rotoscope.options`), and a control is shown only while its owner (a method or
a consistency technique) is chosen. Reading the controls back gives the values that differ from their
declared defaults, by option name, ready for :func:`rotoscope.api.build_spec` — which alone validates them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gradio as gr

from .. import api
from ..options import Option

#: the formats the page writes into a job folder (output.gif, output.mp4, …), from the encoder's table
FORMATS: tuple[str, ...] = api.output_formats()
#: the page's starting formats: a GIF to look at and an MP4 to share
DEFAULT_FORMATS = ["gif", "mp4"]
#: panels shown open when the page loads (the rest start folded)
OPEN_PANELS = ("Method", "Look")
_ACRONYMS = {"cfg": "CFG", "fps": "FPS", "crf": "CRF", "vae": "VAE", "lora": "LoRA", "lcm": "LCM"}
_NONE = "—"  # the label of "not given" in the dropdown of an option that may be left unset


@functools.cache
def options() -> dict[str, Option]:
    """Every job option by name, in the table's order (panel by panel), as the API facade lists them."""
    return {info.key: info for info in api.options_table()}


def lookup(name: str) -> Option:
    return options()[name]


def panels() -> dict[str, list[Option]]:
    """The options by panel, in table order."""
    grouped: dict[str, list[Option]] = {}
    for info in options().values():
        grouped.setdefault(info.panel, []).append(info)
    return grouped


def kind(info: Option) -> str:
    """Which control shows ``info``: its widget hint where it has one, else what its type and range say."""
    if info.widget in ("radio", "file", "outputs", "model", "textarea"):
        return info.widget
    if info.base_type is list:
        return "multiselect" if info.choices is not None else "lines"
    if info.choices is not None:
        return "dropdown"
    if info.base_type is bool:
        return "checkbox"
    # a number that may be left unset is typed as text: gradio's number box cannot be empty (it sends 0)
    if info.base_type in (int, float) and info.widget != "text" and not info.optional:
        ranged = info.low is not None and info.high is not None
        # a slider only where its track means something: not for seeds (0 … 2³²)
        return "slider" if ranged and info.high - info.low <= 1024 else "number"
    return "text"


def label(info: Option) -> str:
    """The flag without dashes, readable: --cfg → "CFG", --negative-prompt → "Negative prompt"."""
    words = [_ACRONYMS.get(w, w) for w in info.cli_flag.lstrip("-").split("-")]
    first = words[0] if words[0] in _ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def _text(info: Option, value: Any) -> str:
    return "" if value is None else info.format(value)


def component(info: Option, *, models: Sequence[str] = ()) -> gr.components.Component:
    """The gradio control of one option, starting at its declared default."""
    common: dict[str, Any] = dict(label=label(info), info=info.help, elem_id=f"opt-{info.key}", visible=shown(info))
    default = info.default
    match kind(info):
        case "radio":
            return gr.Radio(choices=list(info.choice_list()), value=default, **common)
        case "file":  # a file control has no help line: the help goes into its label
            common["label"] = f"{common['label']}: {common.pop('info')}"
            return gr.File(file_count="single", type="filepath", **common)
        case "outputs":  # the page writes outputs into the job folder: only their formats are chosen here
            return gr.CheckboxGroup(choices=list(FORMATS), value=DEFAULT_FORMATS, **common)
        case "model":  # the declared default, tiny, the classic styles and what the models folder holds
            return gr.Dropdown(choices=list(dict.fromkeys([default, *models])), value=default, allow_custom_value=True,
                               **common)
        case "textarea":
            return gr.Textbox(value=_text(info, default), lines=3, **common)
        case "multiselect":
            return gr.Dropdown(choices=list(info.choice_list()), value=list(default), multiselect=True,
                               allow_custom_value=not info.strict_choices, **common)
        case "lines":
            return gr.Textbox(value="\n".join(info.format(item) for item in default), lines=2,
                              placeholder="one per line", **common)
        case "dropdown":
            choices: list[Any] = list(info.choice_list())
            if info.optional:  # "—" sends nothing: the option stays unset
                choices = [(_NONE, ""), *choices]
            return gr.Dropdown(choices=choices, value=default if default is not None else "",
                               allow_custom_value=not info.strict_choices, **common)
        case "checkbox":
            return gr.Checkbox(value=default, **common)
        case "slider":
            span = info.high - info.low
            step = 1 if info.base_type is int else (0.01 if span <= 2 else 0.1)
            return gr.Slider(minimum=info.low, maximum=info.high, step=step, value=default, **common)
        case "number":
            return gr.Number(value=default, precision=0 if info.base_type is int else None, **common)
    return gr.Textbox(value=_text(info, default), placeholder="empty: not set" if info.optional else None, **common)


def value(info: Option, raw: Any) -> Any:
    """A control's value as the API takes it (``None`` = not given); text stays text, build_spec reads it."""
    if raw is None:
        return None
    match kind(info):
        case "lines":  # one item per line (and the declared separator within a line, e.g. "canny, tile")
            return [part.strip() for line in str(raw).splitlines()
                    for part in (line.split(info.split) if info.split else [line]) if part.strip()]
        case "multiselect" | "outputs":
            return list(raw)
        case "slider" | "number" if info.base_type is int and isinstance(raw, float) and raw.is_integer():
            return int(raw)  # gradio hands whole numbers back as floats
    if isinstance(raw, str) and not raw.strip() and (info.optional or info.base_type is not str):
        return None  # an emptied box of an option that may be unset
    return raw


def given(info: Option, raw: Any) -> Any:
    """The control's value, or ``None`` when it is the declared default (so presets and --from fill it)."""
    found = value(info, raw)
    return None if found == info.default else found


def shown(info: Option, method: str | None = None, techniques: Iterable[str] = ()) -> bool:
    """Is the option meaningful for this method and these techniques? (Mask options show in the Mask panel.)"""
    owner = info.owner
    if owner is None or owner.kind == "mask":
        return True
    if owner.kind == "method":
        return (method or lookup("method").default) in owner.names
    return any(name in owner.names for name in techniques or ())


class Settings:
    """Every job option's control, by option name, laid out in one accordion per panel (table order)."""

    def __init__(self, *, models: Sequence[str] = (), after: dict[str, Callable[[], Any]] | None = None) -> None:
        """``after``: option name → a function that adds the page's own buttons under that option's control
        (e.g. the seed's dice); what it returns is kept in ``extras``."""
        self.controls: dict[str, gr.components.Component] = {}
        self.accordions: dict[str, gr.Accordion] = {}
        self.extras: dict[str, Any] = {}
        self.options: dict[str, list[Option]] = panels()
        for panel, options in self.options.items():
            with gr.Accordion(panel, open=panel in OPEN_PANELS, visible=self._panel_shown(options),
                              elem_id=f"panel-{panel.lower()}") as accordion:
                for info in options:
                    self.controls[info.key] = component(info, models=models)
                    if after and info.key in after:
                        self.extras[info.key] = after[info.key]()
            self.accordions[panel] = accordion

    def __getitem__(self, name: str) -> gr.components.Component:
        return self.controls[name]

    def inputs(self, names: Iterable[str] | None = None) -> set[gr.components.Component]:
        return {self.controls[n] for n in (names if names is not None else self.controls)}

    def given(self, data: dict, names: Iterable[str] | None = None, skip: Iterable[str] = ()) -> dict[str, Any]:
        """The options (all, or ``names``) whose controls differ from the declared default, by name."""
        skip = set(skip)
        found = {}
        for name in (names if names is not None else self.controls):
            control = self.controls[name]
            if name in skip or control not in data:
                continue
            setting = given(lookup(name), data[control])
            if setting is not None:
                found[name] = setting
        return found

    def names(self, *groups: str) -> list[str]:
        """The options of some JobSpec groups (e.g. "media"), for the actions that take only those."""
        return [n for n in self.controls if lookup(n).group in groups]

    @staticmethod
    def _panel_shown(options: list[Option], method: str | None = None, techniques: Iterable[str] = ()) -> bool:
        return any(shown(info, method, techniques) for info in options)

    def wire(self) -> None:
        """Show the method's and the techniques' own options only while they are chosen."""
        gated = [(info, self.controls[info.key]) for options in self.options.values() for info in options
                 if info.owner is not None and info.owner.kind in ("method", "technique")]
        method, techniques = self.controls["method"], self.controls["consistency"]

        def follow(chosen: str, names: list[str] | None) -> list:
            names = names or []
            return ([gr.update(visible=shown(info, chosen, names)) for info, _ in gated]
                    + [gr.update(visible=self._panel_shown(options, chosen, names)) for options in self.options.values()])

        gr.on([method.change, techniques.change], follow, [method, techniques],
              [c for _, c in gated] + list(self.accordions.values()), queue=False, api_visibility="undocumented")
