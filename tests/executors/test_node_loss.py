"""A node lost mid-job: a two-node Ray cluster (``ray.cluster_utils.Cluster``, both nodes on 127.0.0.1, token
auth, usage stats off, a temp HOME and a private RAY_TMPDIR so nothing lands in /tmp/ray), one actor on each
node; the worker node is removed (its raylet and actor SIGKILLed) right after the first frame is written. The
job completes on the node that is left: every index once, the local run's bytes, finished frames untouched.
Only this module's nodes are stopped (cluster.shutdown), never `ray stop`."""

from __future__ import annotations

import os
import secrets
import signal
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from rotoscope.executors.cluster import LOCALHOST, Cluster as Joined, _environment, _single_machine
from rotoscope.executors.ray_executor import RayExecutor
from rotoscope.jobs.build import build_spec
from rotoscope.jobs.runner import run_job
from tests import clips
from tests.executors.faults import OnFirstWrite, frame_files
from tests.executors.test_ray import FRAMES, LOOK, digests, logged, temps

#: the GCS notices a dead node within a second or two (defaults: ~30 s), so the test waits on state, briefly
FAST_HEALTH = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500, "health_check_failure_threshold": 2}


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory, tiny_model_dir):
    import ray
    from ray.cluster_utils import Cluster

    folder = Path(tempfile.mkdtemp(prefix="rt-"))  # short: Ray's socket paths live under it
    token_path = folder / "auth_token"
    token_path.write_text(secrets.token_hex(32))
    token_path.chmod(0o600)
    env = {"HOME": str(tmp_path_factory.mktemp("home")), "RAY_TMPDIR": str(folder), "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_path), "RAY_AUTH_TOKEN": None, "RAY_ADDRESS": None,
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    with _environment(env), _single_machine(ray):
        cluster = Cluster(initialize_head=True, connect=True, shutdown_at_exit=False, head_node_args={
            "num_cpus": 1, "node_ip_address": LOCALHOST, "include_dashboard": False, "_system_config": FAST_HEALTH})
        try:
            worker = cluster.add_node(num_cpus=1, node_ip_address=LOCALHOST)
            yield cluster, worker
        finally:
            ray.shutdown()
            cluster.shutdown()
            shutil.rmtree(folder, ignore_errors=True)


def test_a_node_removed_mid_job_loses_nothing(two_nodes, tmp_path):
    import ray

    cluster, worker = two_nodes
    clip = clips.moving_box_clip(tmp_path / "box.mp4", frames=FRAMES, size=(64, 48))
    local = tmp_path / "local"
    run_job(build_spec(str(clip), {**LOOK, "output": [str(tmp_path / "local.gif")]}), job_dir=local)

    executor = RayExecutor(Joined(cluster.address, gpus=0, cpus=2, owned=False), workers=2, threads=1)
    try:
        spec = build_spec(str(clip), {**LOOK, "output": [str(tmp_path / "out.gif")]})
        slots = executor.pool(spec).slots
        nodes = ray.get([slot.actor.node.remote() for slot in slots])
        assert sorted(nodes) == sorted([worker.node_id, cluster.head_node.node_id])  # one actor on each node
        lost = ray.get(slots[nodes.index(worker.node_id)].actor.pid.remote())

        def lose_the_node() -> None:
            """The machine goes: its raylet and stores (remove_node), and its worker processes with them (a worker
            whose raylet was SIGKILLed may otherwise finish a few more calls before it notices)."""
            cluster.remove_node(worker, allow_graceful=False)
            try:
                os.kill(lost, signal.SIGKILL)
            except ProcessLookupError:
                pass

        job = tmp_path / "job"
        progress = OnFirstWrite(job, lose_the_node)
        run_job(spec, job_dir=job, executor=executor, progress=progress)
    finally:
        executor.close()
    assert progress.finished
    after = {n: f for n, f in frame_files(job / "frames").items() if n in progress.finished}
    assert after == progress.finished  # finished frames untouched
    assert digests(job / "frames") == digests(local / "frames")
    assert logged(job) == Counter(range(FRAMES))  # each index written exactly once
    assert not temps(job)
    assert executor.stats["requeued"] >= 1 and executor.stats["replaced"] == 1  # the lost node's units came back
    assert not any(n["Alive"] for n in ray.nodes() if n["NodeID"] == worker.node_id)
