"""The consistency defaults tuned on the clip set (bench/consistency.py --clips set, docs/consistency.md) are the
option model's: the bench's "default" row runs the recommended techniques with no knob overridden."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from rotoscope.consistency import ConsistencyOptions
from rotoscope.consistency.options import RECOMMENDED, _technique_names

BENCH = Path(__file__).resolve().parents[2] / "bench" / "consistency.py"


def test_the_tuned_defaults_are_the_option_models():
    defaults = {f.name: f.default for f in dataclasses.fields(ConsistencyOptions) if f.name != "techniques"}
    assert RECOMMENDED == ("flow-warp",) and set(RECOMMENDED) <= set(_technique_names())
    assert (defaults["flow_warp_weight"], defaults["flow_warp_fuse"]) == (0.15, 0.7)
    assert ConsistencyOptions().techniques == []  # recommended, not switched on: gif2gif keeps batching frames


def test_the_bench_default_row_overrides_no_knob():
    tree = ast.parse(BENCH.read_text())
    rows = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                and any(getattr(t, "id", None) == "SET_ROWS" for t in node.targets))
    default = next(row for row in ast.literal_eval(rows) if row[0] == "default")
    assert default[1:] == ("gif2gif", None, ())  # None: RECOMMENDED, with ConsistencyOptions' own defaults
    assert "list(RECOMMENDED) if techniques is None" in BENCH.read_text()
    assert "ConsistencyOptions(techniques=list(techniques), **overrides)" in BENCH.read_text()
