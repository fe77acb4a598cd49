"""The Ray executor on a real local Ray cluster (one per module: 2 CPUs, 127.0.0.1, no dashboard, usage stats
off, a private token, a temp HOME), real actors holding the tiny model, real SIGKILLs. Nothing is mocked.

The cluster is started by rotoscope's own code (executors.cluster.start_local, what --workers does), so the
ports and token checks check what users get. Only processes this module started are ended: the actors we
kill by pid, the driver subprocess we start, and the cluster (ray.shutdown at the end) — never `ray stop`.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
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


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("[0-9]*.png"))}


def logged(job: Path) -> Counter:
    lines = (job / "log.jsonl").read_text().splitlines() if (job / "log.jsonl").exists() else []
    return Counter(json.loads(line)["frame"] for line in lines)


def temps(job: Path) -> list[str]:
    return [str(p) for p in job.rglob("*") if is_temp_name(p.name)]


def spec_for(clip: Path, out: Path):
    return build_spec(str(clip), {**LOOK, "output": [str(out)]})


def test_driver_killed_then_rerun_recomputes_nothing(executor, cluster, clip, local_frames, tmp_path, home):
    """(First in the module: its driver's actor needs a CPU the module's two actors would hold.)
    A driver process (the CLI, joining this cluster with its token) is SIGKILLed mid-job; running the job
    again (here, on the module's actors) computes only the frames it had not written."""
    job = tmp_path / "job"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "HOME": str(home)}
    for key in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_TOKEN", "RAY_ADDRESS"):
        env.pop(key, None)
    args = [sys.executable, "-m", "rotoscope.cli", "run", str(clip), "--job", str(job), "-o", str(tmp_path / "out.gif"),
            "--ray", cluster.address, "--ray-token", cluster.token, "--workers", "1",
            *[x for k, v in LOOK.items() for x in (f"--{k}", str(v))]]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 240
        while not logged(job) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        stderr = proc.communicate()[1].decode()
    assert alive, stderr[-1200:]
    done = logged(job)
    assert 1 <= len(done) < FRAMES, stderr[-2000:]
    kept = {name: d for name, d in digests(job / "frames").items()}
    result = run_job(spec_for(clip, tmp_path / "out.gif"), job_dir=job, executor=executor)
    assert result.frames_resumed == len(done)
    assert logged(job) == Counter(range(FRAMES))  # no index computed twice
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


class KillOnFirstWrite:
    """A Progress whose per-worker hook SIGKILLs one actor right after the first frame is written: that actor
    is mid-unit (each holds up to two units), and the frames finished so far are recorded."""

    def __init__(self, job: Path, victim: int) -> None:
        self.job, self.victim, self.finished = job, victim, None

    def start(self, stage, total):
        pass

    def advance(self, count=1):
        pass

    def finish(self):
        pass

    def workers(self, counts):
        if self.finished is None:
            self.finished = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino, p.stat().st_mtime_ns)
                             for p in (self.job / "frames").glob("*.png")}
            os.kill(self.victim, signal.SIGKILL)


def test_an_actor_killed_mid_unit_loses_only_its_units(executor, clip, local_frames, tmp_path):
    executor.pool(spec_for(clip, tmp_path / "out.gif"))
    pids = executor.worker_pids()
    killed_id = next(iter(executor.pools.values())).slots[1].actor._actor_id
    before = dict(executor.stats)
    job = tmp_path / "job"
    progress = KillOnFirstWrite(job, pids["w1"])
    run_job(spec_for(clip, tmp_path / "out.gif"), job_dir=job, executor=executor, progress=progress)
    assert progress.finished  # the kill happened with frames finished
    after = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino, p.stat().st_mtime_ns)
             for p in (job / "frames").glob("*.png") if p.name in progress.finished}
    assert after == progress.finished  # finished frames untouched: same bytes, same file, same mtime
    assert digests(job / "frames") == local_frames  # every index, byte-identical to the local run
    assert logged(job) == Counter(range(FRAMES))  # each index computed (written) exactly once
    assert not temps(job)
    assert executor.stats["replaced"] - before["replaced"] == 1
    assert 1 <= executor.stats["requeued"] - before["requeued"] <= 2  # only the dead actor's in-flight units
    slot = next(iter(executor.pools.values())).slots[1]
    assert slot.actor._actor_id != killed_id  # a new actor took its place (its model may still be loading)


def test_a_client_without_the_token_is_refused(cluster, home):
    """A plain Ray client (no token, auth disabled on its side) is refused by the cluster's GCS. (rotoscope's own
    join turns that into a one-line error naming --ray-token; a bare client keeps this test quick.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled",
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")  # reach 127.0.0.1 as given (see executors/cluster.py)
    code = f"import ray; ray.init(address={cluster.address!r}); print('CONNECTED')"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "CONNECTED" not in done.stdout
    assert "InvalidAuthToken" in done.stderr or "Unauthenticated" in done.stderr, done.stderr[-2000:]
    # (with the token a client is let in: the driver-kill test's CLI joins this cluster with --ray-token)


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
    ports = _listening(_descendants(roots))
    assert ports  # the GCS, the raylet, the object manager, the workers: they do listen
    assert all(_loopback(p.rsplit(":", 1)[0]) for p in ports), ports


def test_jobs_ray_cannot_split_are_refused_in_one_line(clip):
    where = Where(workers=2)
    with pytest.raises(ExecutorError, match=r"run gif2gif.*--method keyframes runs locally"):
        where.check(build_spec(str(clip), {"model": "tiny", "method": "keyframes"}))
    with pytest.raises(ExecutorError, match=r"--consistency loopback runs locally"):
        where.check(build_spec(str(clip), {"model": "tiny", "consistency": "loopback"}))
    Where().check(build_spec(str(clip), {"model": "tiny", "method": "keyframes"}))  # a local run takes anything
    options = {"workers": 2, "ray": None, "seed": 1}
    assert Where.take(options) == Where(workers=2) and options == {"seed": 1}
