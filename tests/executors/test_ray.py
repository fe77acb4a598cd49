"""The Ray executor on a real local Ray cluster (one per module: 2 CPUs, 127.0.0.1, no dashboard, usage stats
off, a private token, a temp HOME), real actors holding the tiny model, real SIGKILLs. Nothing is mocked.

The cluster is started by rotoscope's own code (executors.cluster.start_local, what --workers does), so the
ports and token checks check what users get. Only processes this module started are ended: the actors we
kill by pid, the driver subprocess we start, and the cluster (ray.shutdown at the end) — never `ray stop`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from rotoscope.executors import ExecutorError, Where
from rotoscope.executors.cluster import start_local
from rotoscope.executors.ray_executor import RayExecutor
from rotoscope.jobs.build import build_spec
from rotoscope.jobs.runner import run_job
from rotoscope.media.atomic import is_temp_name
from tests import clips
from tests.executors.faults import OnFirstWrite, frame_files, kill_when, wait_for
from tests.frames import frame_digests as digests

ROOT = Path(__file__).resolve().parents[2]
FRAMES = 8
LOOK = dict(model="tiny", prompt="ink drawing", seed=3, steps=4, strength=0.5, width=64, threads=1)


@pytest.fixture(scope="module")
def home(tmp_path_factory, tiny_model_dir):
    """A temp HOME for the module (Ray must not read or write ~/.ray), set before the cluster starts so its
    processes (and the actors, which load the tiny model from $ROTOSCOPE_CACHE) inherit it."""
    folder = tmp_path_factory.mktemp("home")
    saved = os.environ.get("HOME"), os.environ.get("RAY_USAGE_STATS_ENABLED")
    os.environ["HOME"], os.environ["RAY_USAGE_STATS_ENABLED"] = str(folder), "0"
    yield folder
    for key, value in zip(("HOME", "RAY_USAGE_STATS_ENABLED"), saved):
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def cluster(home):
    with start_local(2, gpus=0) as found:
        yield found


@pytest.fixture(scope="module")
def executor(cluster):
    ex = RayExecutor(cluster, workers=2, threads=1)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return clips.moving_box_clip(tmp_path_factory.mktemp("clip") / "box.mp4", frames=FRAMES, size=(64, 48))


@pytest.fixture(scope="module")
def local_frames(clip, tmp_path_factory):
    """The frames of a local run (no executor): what every Ray run must reproduce byte for byte."""
    job = tmp_path_factory.mktemp("local") / "job"
    run_job(build_spec(str(clip), {**LOOK, "output": [str(job.parent / "out.gif")]}), job_dir=job)
    return digests(job / "frames")




def logged(job: Path) -> Counter:
    lines = (job / "log.jsonl").read_text().splitlines() if (job / "log.jsonl").exists() else []
    return Counter(json.loads(line)["frame"] for line in lines)


def temps(job: Path) -> list[str]:
    return [str(p) for p in job.rglob("*") if is_temp_name(p.name)]


def spec_for(clip: Path, out: Path):
    return build_spec(str(clip), {**LOOK, "output": [str(out)]})


def frames_on_disk(job: Path) -> set[int]:
    return {int(p.stem) for p in (job / "frames").glob("[0-9]*.png")} if (job / "frames").exists() else set()


def test_driver_killed_then_rerun_recomputes_nothing(executor, cluster, clip, local_frames, tmp_path, home):
    """(First in the module: its driver's actor needs a CPU the module's two actors would hold.)
    A driver process (the CLI, joining this cluster with its token) is SIGKILLed once it has written a frame;
    running the job again (here, on the module's actors) computes only the frames that were not on disk.
    Every wait is on state (a frame in the store, the dead driver's CPU back in the cluster), never a sleep."""
    import ray

    job = tmp_path / "job"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "HOME": str(home)}
    for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN", "RAY_ADDRESS"):
        env.pop(key, None)
    args = [sys.executable, "-m", "rotoscope.cli", "run", str(clip), "--job", str(job), "-o", str(tmp_path / "out.gif"),
            "--ray", cluster.address, "--ray-token", cluster.token, "--workers", "1",
            *[x for k, v in LOOK.items() for x in (f"--{k}", str(v))]]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    alive, stderr = kill_when(proc, lambda: frames_on_disk(job), "the driver's first frame")
    assert alive, stderr[-1200:]
    done = frames_on_disk(job)  # after the kill: what the store holds (a frame renamed but not yet logged counts)
    assert 1 <= len(done) < FRAMES, stderr[-2000:]
    before = logged(job)
    kept = digests(job / "frames")
    # the dead driver's actor is released by the cluster in its own time: wait for its CPU, not for a clock
    wait_for(lambda: ray.available_resources().get("CPU", 0) >= 2, "the killed driver's actor to be released")
    result = run_job(spec_for(clip, tmp_path / "out.gif"), job_dir=job, executor=executor)
    assert result.frames_resumed == len(done)
    made = logged(job) - before
    assert set(made) == set(range(FRAMES)) - done and set(made.values()) == {1}  # no index computed again
    assert {n: d for n, d in digests(job / "frames").items() if n in kept} == kept
    assert digests(job / "frames") == local_frames
    assert not temps(job)


def test_two_workers_give_the_local_frames_byte_for_byte(executor, clip, local_frames, tmp_path):
    job = tmp_path / "job"
    result = run_job(spec_for(clip, tmp_path / "out.gif"), job_dir=job, executor=executor)
    assert (result.frames_computed, result.frames_total) == (FRAMES, FRAMES)
    assert digests(job / "frames") == local_frames
    assert set(logged(job).values()) == {1} and len(logged(job)) == FRAMES
    per_worker = executor.last_run
    assert sum(per_worker.values()) == FRAMES and all(per_worker.values()), per_worker  # both actors worked
    assert (tmp_path / "out.gif").stat().st_size > 0


def test_a_client_without_the_token_is_refused(cluster, home):
    """A plain Ray client (no token, auth disabled on its side) is refused by the cluster's GCS. (rotoscope's own
    join turns that into a one-line error naming --ray-token; a bare client keeps this test quick.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled",
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",  # reach 127.0.0.1 as given (see executors/cluster.py)
               RAY_gcs_server_port_wait_time_s="1")  # one refused attempt is the answer (default: 20, a second apart)
    code = f"import ray; ray.init(address={cluster.address!r}); print('CONNECTED')"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "CONNECTED" not in done.stdout
    assert "InvalidAuthToken" in done.stderr or "Unauthenticated" in done.stderr, done.stderr[-2000:]
    # (with the token a client is let in: the driver-kill test's CLI joins this cluster with --ray-token)


def test_rotoscope_without_the_token_says_to_pass_it(cluster, clip, tmp_path, home):
    """rotoscope's own join, no token: one line naming --ray-token, after its 5 tries (Ray's own wait is 20 s),
    and nothing written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    args = [sys.executable, "-m", "rotoscope.cli", "run", str(clip), "--job", str(tmp_path / "job"),
            "-o", str(tmp_path / "out.gif"), "--ray", cluster.address, *[x for k, v in LOOK.items() for x in (f"--{k}", str(v))]]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode != 0, done.stdout[-1000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"the Ray cluster at {cluster.address} refused us" in errors[0] and "--ray-token" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr and not (tmp_path / "out.gif").exists()


def _descendants(roots: set[int]) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, grew = set(roots), True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _listening(pids: set[int]) -> list[str]:
    """'ADDRESS:PORT' of every listening TCP socket held by ``pids`` (/proc/net/tcp{,6} and their fds)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                address, port = cols[1].split(":")
                found.append(f"{_ip(address)}:{int(port, 16)}")
    return found


def _ip(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ".".join(str(b) for b in raw[::-1])
    import ipaddress

    return str(ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))


def _loopback(text: str) -> bool:
    import ipaddress

    ip = ipaddress.ip_address(text)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def test_the_local_cluster_listens_on_127_0_0_1_only(cluster, executor):
    import ray

    node = ray._private.worker._global_node
    roots = {info.process.pid for infos in node.all_processes.values() for info in infos}
    # the actors are the raylet's children: found among its descendants
    pids = _descendants(roots)
    ports = _listening(pids)
    assert ports  # the GCS, the raylet, the object manager, the workers: they do listen
    assert all(_loopback(p.rsplit(":", 1)[0]) for p in ports), ports
    # the same seen by `ss -ltnp` (what an admin runs): every listening socket of these processes, on loopback
    shown = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines()
    by_ss = [line.split()[3].rsplit(":", 1) for line in shown if {int(p) for p in re.findall(r"pid=(\d+)", line)} & pids]
    assert sorted(int(port) for _, port in by_ss) == sorted(int(p.rsplit(":", 1)[1]) for p in ports), (by_ss, ports)
    assert all(_loopback(address.strip("[]")) for address, _ in by_ss), by_ss


def test_jobs_ray_cannot_split_are_refused_in_one_line(clip):
    where = Where(workers=2)
    with pytest.raises(ExecutorError, match=r"run gif2gif.*--method img2vid makes the whole clip in one call"):
        where.check(build_spec(str(clip), {"model": "tiny", "method": "img2vid"}))
    with pytest.raises(ExecutorError, match=r"--consistency cross-frame-attention keeps state inside one model"):
        where.check(build_spec(str(clip), {"model": "tiny", "consistency": "cross-frame-attention"}))
    where.check(build_spec(str(clip), {"model": "tiny", "method": "keyframes"}))
    Where().check(build_spec(str(clip), {"model": "tiny", "method": "img2vid"}))  # a local run takes anything
    options = {"workers": 2, "ray": None, "seed": 1}
    assert Where.take(options) == Where(workers=2) and options == {"seed": 1}


#: a job of each kind the executor splits, on the module's 8-frame clip: split on 2 workers, it must give the
#: local run's frames byte for byte (the shots at 4 make two independent segments / window chains)
SPLITS = {
    "sequential": dict(consistency="loopback,flow-warp,color-match", shots="4"),
    "keyframes": dict(method="keyframes", keys="every:3", plate="2x1"),
    "ebsynth": dict(method="ebsynth", keys="every:4", batch_size=2),
    "animatediff": dict(method="animatediff", context_length=3, context_overlap=1, shots="4"),
}


@pytest.mark.parametrize("name", SPLITS)
def test_split_methods_give_the_local_frames(executor, clip, tmp_path, name):
    executor.worker_pids()  # every actor ready (a pool's actors answer once their model is built)
    options = {**LOOK, **SPLITS[name]}
    local = tmp_path / "local"
    run_job(build_spec(str(clip), {**options, "output": [str(tmp_path / "local.gif")]}), job_dir=local)
    job = tmp_path / "job"
    spec = build_spec(str(clip), {**options, "output": [str(tmp_path / "ray.gif")]})
    run_job(spec, job_dir=job, executor=executor)
    assert digests(job / "frames") == digests(local / "frames") and len(digests(local / "frames")) == FRAMES
    assert logged(job) == Counter(range(FRAMES))  # each index made once
    assert executor.last_units >= 2
    assert all(executor.last_run.values()), executor.last_run  # both workers had a part
    if name == "sequential":  # resumed mid-segment: pieces start at the last stored frame before them
        for i in (2, 3, 6, 7):
            (job / "frames" / f"{i:05d}.png").unlink()
        kept = {n: d for n, d in digests(job / "frames").items()}
        result = run_job(spec, job_dir=job, executor=executor)
        assert (result.frames_computed, result.frames_resumed) == (4, 4)
        assert digests(job / "frames") == digests(local / "frames")
        assert {n: d for n, d in digests(job / "frames").items() if n in kept} == kept


def test_an_actor_killed_mid_unit_loses_only_its_units(executor, clip, local_frames, tmp_path):
    executor.pool(spec_for(clip, tmp_path / "out.gif"))
    pids = executor.worker_pids()
    killed_id = next(iter(executor.pools.values())).slots[1].actor._actor_id
    before = dict(executor.stats)
    job = tmp_path / "job"
    progress = OnFirstWrite(job, lambda: os.kill(pids["w1"], signal.SIGKILL))  # w1 is mid-unit then
    run_job(spec_for(clip, tmp_path / "out.gif"), job_dir=job, executor=executor, progress=progress)
    assert progress.finished  # the kill happened with frames finished
    after = {n: f for n, f in frame_files(job / "frames").items() if n in progress.finished}
    assert after == progress.finished  # finished frames untouched: same bytes, same file, same mtime
    assert digests(job / "frames") == local_frames  # every index, byte-identical to the local run
    assert logged(job) == Counter(range(FRAMES))  # each index computed (written) exactly once
    assert not temps(job)
    assert executor.stats["replaced"] - before["replaced"] == 1
    assert 1 <= executor.stats["requeued"] - before["requeued"] <= 2  # only the dead actor's in-flight units
    slot = next(iter(executor.pools.values())).slots[1]
    assert slot.actor._actor_id != killed_id  # a new actor took its place (its model may still be loading)


def test_the_video_job_queue_runs_its_jobs_on_the_servers_executor(executor, clip, local_frames, tmp_path):
    """`rotoscope serve --workers N` holds one executor (api.executor) for its lifetime; the video-jobs queue runs
    each job on it: here the module's actors, in a server thread of this process. A job Ray cannot split runs in
    the server's process instead (api.run_spec)."""
    import base64

    import requests

    from rotoscope.http.app import serve_in_thread
    from rotoscope.http.config import ServeConfig
    from tests.servers import free_port

    config = ServeConfig(port=free_port(), jobs_dir=tmp_path / "jobs", where={"workers": "2"})
    server = serve_in_thread(config, "tiny", executor)
    url = f"http://127.0.0.1:{config.port}/rotoscope/v1/jobs"
    try:
        written = executor.stats["written"]
        options = {k: v for k, v in LOOK.items() if k != "model"}
        r = requests.post(url, json={"clip": base64.b64encode(clip.read_bytes()).decode(), "filename": "clip.mp4",
                                     "options": options}, timeout=120)
        assert r.status_code == 200, r.text
        id = r.json()["id"]
        while (found := requests.get(f"{url}/{id}", timeout=30).json())["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.05)  # no time is asserted: the test's own timeout bounds it
        assert found["state"] == "done", found
        assert executor.stats["written"] - written == FRAMES  # every frame came from the actors
        assert sum(executor.last_run.values()) == FRAMES
        (job,) = [p.parent for p in (tmp_path / "jobs").rglob("job.json")]
        assert digests(job / "frames") == local_frames
    finally:
        server.should_exit = True


def test_a_node_removed_mid_job_loses_nothing(executor, cluster, clip, local_frames, tmp_path):
    """The module's cluster gets a second node (ray.cluster_utils' add_node: 1 CPU, 127.0.0.1, the cluster's token,
    its private temp folder); a job on 3 actors (one per CPU, so one lands there) loses that node right after its
    first frame is written. The job completes on the node that is left: every index once, the local run's bytes,
    finished frames untouched. (Last of the Ray tests: the module's own actors are closed to make room.)"""
    import ray
    from ray.cluster_utils import Cluster

    from rotoscope.executors.cluster import LOCALHOST, _environment, _single_machine

    executor.close()  # their CPUs go to the 3 actors below
    nodes = Cluster(initialize_head=False, shutdown_at_exit=False)  # cluster_utils over the module's own head
    nodes.head_node, nodes.redis_address = ray._private.worker._global_node, None
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(cluster.folder / "auth_token"), "RAY_AUTH_TOKEN": None,
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    with _environment(env), _single_machine(ray):
        node = nodes.add_node(wait=False, num_cpus=1, node_ip_address=LOCALHOST, temp_dir=str(cluster.folder / "ray"))
    wait_for(lambda: ray.cluster_resources().get("CPU", 0) >= 3, "the second node")
    three = RayExecutor(cluster, workers=3, threads=1)
    try:
        spec = spec_for(clip, tmp_path / "out.gif")
        slots = three.pool(spec).slots
        on_node = [n == node.node_id for n in ray.get([slot.actor.node.remote() for slot in slots])]
        assert on_node.count(True) == 1  # one actor on the second node
        lost = ray.get(slots[on_node.index(True)].actor.pid.remote())

        def lose_the_node() -> None:
            """The machine goes: its raylet and stores (remove_node), and its worker processes with them (a worker
            whose raylet was SIGKILLed may otherwise finish a few more calls before it notices)."""
            nodes.remove_node(node, allow_graceful=False)
            try:
                os.kill(lost, signal.SIGKILL)
            except ProcessLookupError:
                pass

        job = tmp_path / "job"
        progress = OnFirstWrite(job, lose_the_node)
        run_job(spec, job_dir=job, executor=three, progress=progress)
    finally:
        three.close()
        if node in nodes.worker_nodes:
            nodes.remove_node(node, allow_graceful=False)
    assert progress.finished
    assert {n: f for n, f in frame_files(job / "frames").items() if n in progress.finished} == progress.finished
    assert digests(job / "frames") == local_frames
    assert logged(job) == Counter(range(FRAMES))  # each index written exactly once
    assert not temps(job)
    assert three.stats["requeued"] >= 1 and three.stats["replaced"] == 1  # the lost node's units came back


def test_ui_and_serve_take_where_options_in_one_line_errors():
    from typer.testing import CliRunner

    from rotoscope.cli import app

    for command in ("ui", "serve"):
        result = CliRunner().invoke(app, [command, "--workers", "-1"])
        assert result.exit_code == 2 and "--workers" in result.output and "Traceback" not in result.output, result.output
