"""Per-worker progress as the faces draw it (the CLI bars, the page's text, a video job's status), fed the
WorkerProgress values the Ray executor reports after each write (tests/executors/test_ray.py runs them live)."""

from __future__ import annotations

from rotoscope.cli.common import RichProgress
from rotoscope.http.vjob_queue import Tracker
from rotoscope.progress import WorkerProgress, describe_workers
from rotoscope.ui.progress import GradioProgress

STATS = {"w0": WorkerProgress(3, 1.5, 2.0), "w1": WorkerProgress(0, 0.0, None)}


def test_the_page_and_the_video_job_status_show_each_worker():
    assert describe_workers(STATS) == "w0 3 fr · 1.50 fr/s · ETA 2 s; w1 0 fr · 0.00 fr/s · ETA --"
    seen = []
    page = GradioProgress(lambda fraction, desc: seen.append(desc))
    page.start("stylize", 8)
    page.advance(3)
    page.workers(STATS)
    assert seen[-1].startswith("stylising 3/8") and seen[-1].endswith("— " + describe_workers(STATS))
    page.start("encode", 8)
    assert "w0" not in page.text  # the worker line belongs to the stylise stage
    tracker = Tracker()
    tracker.start("stylize", 8)
    tracker.workers(STATS)
    assert tracker.by_worker == {"w0": {"frames": 3, "fps": 1.5, "eta_seconds": 2.0},
                                 "w1": {"frames": 0, "fps": 0.0, "eta_seconds": None}}


def test_the_cli_draws_a_bar_per_worker_under_the_stage():
    bar = RichProgress()
    try:
        bar.start("stylize", 8)
        bar.workers(STATS)
        bar.workers({"w0": WorkerProgress(5, 1.5, 2.0), "w1": WorkerProgress(1, 0.5, 4.0)})
        tasks = {t.description.strip(): t for t in bar.bar.tasks}
        assert (tasks["w0"].completed, tasks["w0"].total) == (5, 8)  # 3 frames left at 1.5 fr/s in 2 s
        assert (tasks["w1"].completed, tasks["w1"].total) == (1, 3)
        bar.finish()
        assert all(t.total == t.completed for t in bar.bar.tasks if t.description.strip() in ("w0", "w1"))
    finally:
        bar.close()
