"""How the Ray executor cuts a job into units (executors/plan.py): no cluster, no model — the plan alone."""

from __future__ import annotations

from rotoscope.executors.plan import plan
from rotoscope.jobs.build import build_spec
from rotoscope.media.shots import Shots
from rotoscope.methods.keys import KeySelection

SOURCE = "samples/cup.mp4"


def spec(**options):
    return build_spec(SOURCE, {"model": "tiny", **options})


def test_sequential_segments_start_at_a_cut_or_a_stored_frame_and_chain_inside():
    units = plan(spec(consistency="loopback,color-match", shots="10"), [1, 2, 3, 4, 5, 6, 10, 11, 12],
                 {0, 7, 8, 9, 13}, Shots(14, (10,)), None)
    assert [u.todo for u in units] == [[1, 2, 3, 4], [5, 6], [10, 11, 12]]
    first, second, third = units
    assert (first.reads, first.needs) == ({0}, set())  # starts after a stored frame: reads it, waits for nothing
    assert (second.reads, second.needs, second.chain) == ({4, 0}, {4}, first.chain)  # waits for its segment's last frame
    assert (third.reads, third.needs) == (set(), set())  # a shot's first frame: nothing before it is read
    assert third.chain != first.chain


def test_animatediff_units_are_the_windows_of_a_local_run():
    # 20 frames, windows of 8 with 2 anchors (tests/methods/test_animatediff.py): new 0–7, 8–13, 14–19
    units = plan(spec(method="animatediff", context_length=8, context_overlap=2), list(range(20)), set(),
                 Shots(20), None)
    assert [(u.todo[0], u.todo[-1], sorted(u.needs)) for u in units] == [(0, 7, []), (8, 13, [6, 7]), (14, 19, [12, 13])]
    # a shot cut starts a fresh window: the second shot waits for nothing
    units = plan(spec(method="animatediff", context_length=8, context_overlap=2, shots="10"), list(range(20)), set(),
                 Shots(20, (10,)), None)
    assert [(u.todo[0], u.todo[-1], sorted(u.needs)) for u in units] == [
        (0, 7, []), (8, 9, [2, 3, 4, 5, 6, 7]), (10, 17, []), (18, 19, [12, 13, 14, 15, 16, 17])]


def test_keyframe_methods_make_keys_first_then_spans_that_wait_for_their_two_keys():
    selection = KeySelection([0, 4, 8], [], [])
    units = plan(spec(method="keyframes", keys="every:4", plate="2x1"), list(range(10)), set(), Shots(10), selection)
    assert [(u.kind, u.todo) for u in units] == [("keys", [0, 4]), ("keys", [8]), ("run", [1, 2, 3]), ("run", [5, 6, 7]),
                                                 ("run", [9])]
    assert [sorted(u.needs) for u in units[2:]] == [[0, 4], [4, 8], [8]]
    # ebsynth: keys in batches of --batch-size, a resumed key is read, not made
    units = plan(spec(method="ebsynth", keys="every:4", batch_size=1), [1, 2, 3, 4, 5], {0, 6, 7}, Shots(8),
                 KeySelection([0, 4], [], []))
    assert [(u.kind, u.todo, sorted(u.needs), sorted(u.reads)) for u in units] == [
        ("keys", [4], [], []), ("run", [1, 2, 3], [4], [0, 4]), ("run", [5], [4], [4])]
