"""Keys read from files: ``rotoscope keys`` decodes a clip and writes the contact sheet (the job layer, not the method)."""

from __future__ import annotations

from PIL import Image

from rotoscope.jobs.keys import keys_of_clip
from rotoscope.media.options import MediaOptions
from rotoscope.methods.keys import KeyOptions
from tests.methods.test_keys import CUT, write_cut_clip


def test_keys_of_clip_writes_a_contact_sheet(tmp_path):
    folder = write_cut_clip(tmp_path / "cut")
    sheet = tmp_path / "sheet.png"
    selection = keys_of_clip(str(folder), MediaOptions(), KeyOptions(keys="auto", key_min_gap=30), sheet)
    assert selection.keys == [0, CUT]
    with Image.open(sheet) as picture:
        assert picture.size == (160, 2 * (120 + 16))  # one row per shot: the cut's key starts the second row
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left behind
