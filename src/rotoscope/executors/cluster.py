"""Joining or starting the Ray cluster a job runs on, with the safe settings by default.

A cluster started here (``--workers N`` without ``--ray``) binds 127.0.0.1 only, has no dashboard,
sends no usage stats, and has token auth on with a token made for this run and kept in a private
folder (mode 0700, removed afterwards) — never ``~/.ray/auth_token``. Joining a cluster
(``--ray ADDRESS``) takes its token from ``--ray-token`` or ``$RAY_AUTH_TOKEN``; without one, a
cluster that lets us in accepts anyone, and we say so.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..notices import notice
from . import ExecutorError, Where

LOCALHOST = "127.0.0.1"
TOKENLESS_TRIES = 5  # connection attempts (a second apart) when joining a cluster without a token


@dataclass
class Cluster:
    """A connected cluster: ``address`` (its GCS), ``gpus`` (GPUs it has), ``owned`` (started by us, stopped
    when we leave), ``folder`` (the private folder of a cluster we started: its token and session files)."""

    address: str
    gpus: int
    cpus: int
    owned: bool
    folder: Path | None = None
    token: str | None = field(default=None, repr=False)


def _ray():
    try:
        import ray
    except ImportError:
        raise ExecutorError("--workers/--ray need Ray: pip install 'ray==2.60.0' (or the project's ray extra).") from None
    return ray


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the block (Ray's processes inherit them)."""
    saved = {k: os.environ.get(k) for k in values}
    _set_environment(values)
    try:
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _reload_auth()


def _reload_auth() -> None:
    """Ray's C++ side caches the auth mode and token of this process: make it read the environment again
    (what Ray's own ``ray.init`` does when it turns token auth on)."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def _cuda_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _resources(ray) -> tuple[int, int]:
    total = ray.cluster_resources()
    return int(total.get("CPU", 0)), int(total.get("GPU", 0))


@contextmanager
def _single_machine(ray) -> Iterator[None]:
    """Ray read RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER when it was imported: hold its value to ours while the local
    cluster runs (a later --ray join in this process gets the usual multi-machine behaviour back)."""
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


@contextmanager
def start_local(cpus: int, *, gpus: int | None = None) -> Iterator[Cluster]:
    """A local cluster for this process: 127.0.0.1, no dashboard, no usage stats, a private token."""
    ray = _ray()
    folder = Path(tempfile.mkdtemp(prefix="rotoscope-ray-"))  # mode 0700
    token = secrets.token_hex(32)
    token_path = folder / "auth_token"
    token_path.write_text(token)
    token_path.chmod(0o600)
    # RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0: Ray's single-machine mode, where "this node's IP" is 127.0.0.1
    # (otherwise ray.init turns _node_ip_address="127.0.0.1" into the host's network IP, and its gRPC servers
    # listen on every interface); a node advertised as 127.0.0.1 binds its servers to 127.0.0.1 only.
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_path), "RAY_AUTH_TOKEN": None,
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_ADDRESS": None, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    gpus = _cuda_gpus() if gpus is None else gpus
    try:
        with _environment(env), _single_machine(ray):
            info = ray.init(num_cpus=cpus, num_gpus=gpus, include_dashboard=False, _node_ip_address=LOCALHOST,
                            _temp_dir=str(folder / "ray"), logging_level=logging.WARNING, log_to_driver=False)
            try:
                yield Cluster(info.address_info["gcs_address"], gpus, cpus, owned=True, folder=folder, token=token)
            finally:
                ray.shutdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def join(address: str, token: str | None) -> Iterator[Cluster]:
    """An existing cluster at ``address``, with its token (or none: then a warning if it lets us in)."""
    ray = _ray()
    from ray.exceptions import AuthenticationError

    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_TOKEN_PATH": None, "RAY_ADDRESS": None, "RAY_BACKEND_LOG_LEVEL": "error",
           "RAY_AUTH_MODE": "token" if token else "disabled", "RAY_AUTH_TOKEN": token or None}
    # a cluster on this machine bound to 127.0.0.1 (as ours are): without single-machine mode Ray rewrites
    # 127.0.0.1 in the address to the host's network IP, where nothing listens
    here = address.rsplit(":", 1)[0].strip("[]") in ("127.0.0.1", "localhost", "::1")
    if here:
        env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    if not token:
        # A cluster with token auth refuses a tokenless client like an unreachable GCS, which Ray retries a
        # second apart for 20 s (for a head that is restarting): without a token, 5 tries are the answer.
        # An operator's own setting of the variable wins.
        env["RAY_gcs_server_port_wait_time_s"] = os.environ.get("RAY_gcs_server_port_wait_time_s", str(TOKENLESS_TRIES))
    with _environment(env), (_single_machine(ray) if here else nullcontext()):
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except AuthenticationError:
            raise ExecutorError(f"the Ray cluster at {address} refused us: pass its token with --ray-token or "
                                "$RAY_AUTH_TOKEN.") from None
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not token:  # a cluster with token auth answers a client without one like an unreachable one
                raise ExecutorError(f"the Ray cluster at {address} refused us or is not there ({first}): if it has "
                                    "token auth pass its token with --ray-token or $RAY_AUTH_TOKEN.") from None
            raise ExecutorError(f"no Ray cluster reachable at {address} ({first}); start one with `ray start --head` "
                                "or check --ray.") from None
        if not token:
            notice(f"warning: the Ray cluster at {address} has no token auth: anyone who reaches it can run code "
                   "on it (start it with RAY_AUTH_MODE=token; see docs/scale.md).")
        try:
            cpus, gpus = _resources(ray)
            yield Cluster(address, gpus, cpus, owned=False, token=token)
        finally:
            ray.shutdown()


@contextmanager
def connect(where: Where) -> Iterator[Cluster]:
    """The cluster ``where`` asks for: Ray already connected in this process (a notebook, a test) is used as it
    is; ``--ray ADDRESS`` joins one; otherwise a local one with ``--workers`` CPUs is started."""
    ray = _ray()
    if ray.is_initialized():
        cpus, gpus = _resources(ray)
        yield Cluster(ray.get_runtime_context().gcs_address, gpus, cpus, owned=False)
        return
    if where.ray:
        with join(where.ray, where.ray_token or os.environ.get("RAY_AUTH_TOKEN")) as cluster:
            yield cluster
        return
    with start_local(max(1, where.workers)) as cluster:
        yield cluster
