"""Nothing leaves the machine, nothing leaks: a real `rotoscope ui` process (outbound lookups blocked and recorded)
refuses URL file arguments, other sites, other Host names, oversized requests, password guessing, and files
outside its jobs folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.servers import free_port, stop

SRC = str(Path(__file__).resolve().parents[2] / "src")
# Loaded by the server process: any lookup of a name that is not loopback is written down and fails.
NO_LOOKUPS = '''
import os, socket
_real = socket.getaddrinfo
_log = os.environ["ROTOSCOPE_TEST_LOOKUPS"]
def _name(host):
    return host.decode() if isinstance(host, bytes) else ("" if host is None else str(host))
def _blocked(host, *args, **kwargs):
    name = _name(host)
    if name in ("", "localhost", "::1", "0.0.0.0") or name.startswith("127."):
        return _real(host, *args, **kwargs)
    with open(_log, "a") as log:
        log.write(name + "\\n")
    raise socket.gaierror(socket.EAI_NONAME, "outbound lookups are blocked by the test")
socket.getaddrinfo = _blocked
_real_byname = socket.gethostbyname
def _byname(host):
    if _name(host).startswith("127.") or _name(host) == "localhost":
        return _real_byname(host)
    return _blocked(host)
socket.gethostbyname = _byname
'''
MAX_UPLOAD = 200_000


def _serve(root: Path, *args: str, env: dict | None = None) -> SimpleNamespace:
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(NO_LOOKUPS)
    lookups = root / "lookups.txt"
    port = free_port()
    jobs = root / "jobs"
    full_env = {k: v for k, v in os.environ.items() if k != "ROTOSCOPE_AUTH"}
    full_env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", ROTOSCOPE_TEST_LOOKUPS=str(lookups),
                    PYTHONPATH=os.pathsep.join([str(site), SRC, os.environ.get("PYTHONPATH", "")]), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-c", "from rotoscope.cli import main; main()", "ui", "--port", str(port),
                             "--jobs-dir", str(jobs), "--max-upload", str(MAX_UPLOAD), *args],
                            env=full_env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None and not any("rotoscope web UI: open" in line for line in lines):
        time.sleep(0.2)
    assert any("rotoscope web UI: open" in line for line in lines), "".join(lines)
    return SimpleNamespace(proc=proc, url=url, port=port, jobs=jobs, root=root, lookups=lookups, lines=lines,
                           http=httpx.Client(base_url=url, timeout=60), reader=reader)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    server = _serve(tmp_path_factory.mktemp("guard"))
    yield server
    server.http.close()
    stop(server.proc)


def _upload(http, *files, headers=None):
    return http.post("/gradio_api/upload", files=[("files", (f"clip{i}.mp4", data, "video/mp4")) for i, data in enumerate(files)],
                     headers=headers or {})


def _stream(http, route: str, data: list) -> str:
    response = http.post(f"/gradio_api/call/{route}", json={"data": data})
    assert response.status_code == 200, response.text
    return http.get(f"/gradio_api/call/{route}/{response.json()['event_id']}").text


# -- 12: a URL in a file argument is refused, without looking the host up ------------------------


@pytest.mark.parametrize("url", ["http://files.example/cup.mp4", "https://huggingface.co/x/resolve/main/cup.mp4",
                                 "HTTP://files.example/cup.mp4"])
def test_url_file_arguments_are_refused_without_a_lookup(page, url):
    stream = _stream(page.http, "probe", [{"path": url, "meta": {"_type": "gradio.FileData"}}])
    assert "event: error" in stream
    assert "names another host, and the server fetches nothing from other hosts" in stream, stream
    # the queue route the page itself uses, too
    session = uuid.uuid4().hex[:10]
    joined = page.http.post("/gradio_api/queue/join", json={
        "data": [{"path": url, "meta": {"_type": "gradio.FileData"}}], "fn_index": _fn_index(page, "probe"),
        "session_hash": session})
    assert joined.status_code == 200, joined.text
    events = page.http.get("/gradio_api/queue/data", params={"session_hash": session}).text
    assert "fetches nothing from other hosts" in events, events
    lookups = page.lookups.read_text() if page.lookups.exists() else ""
    assert lookups == "", f"the server looked up {lookups.split()}"


def _fn_index(page, name: str) -> int:
    config = page.http.get("/config").json()
    return next(i for i, dep in enumerate(config["dependencies"]) if dep.get("api_name") == name)


# -- 13: only the jobs folder is served ------------------------------------------------------------


def test_only_the_jobs_folder_is_served(page):
    stamp = uuid.uuid4().hex
    outside = [Path(tempfile.gettempdir()) / "gradio" / stamp / "other.txt",  # gradio's default shared temp folder
               Path(tempfile.gettempdir()) / f"rotoscope-test-{stamp}.txt", page.root / "secret.txt"]
    try:
        for path in outside:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"secret {stamp}")
            response = page.http.get(f"/gradio_api/file={path}")
            assert response.status_code == 403 and stamp not in response.text.replace(str(path), ""), (path, response.text)
        # a missing file reads the same as a forbidden one
        missing = page.http.get(f"/gradio_api/file={page.root}/nothing-{stamp}.txt")
        forbidden = page.http.get(f"/gradio_api/file={outside[2]}")
        assert missing.status_code == forbidden.status_code == 403
        assert missing.json()["detail"].split(":")[0] == forbidden.json()["detail"].split(":")[0] == "File not allowed"
    finally:
        for path in outside:
            path.unlink(missing_ok=True)
        (Path(tempfile.gettempdir()) / "gradio" / stamp).rmdir()
    # uploads land in the page's own temp folder inside the jobs folder, and are served from there
    response = _upload(page.http, b"GIF89a" + stamp.encode())
    assert response.status_code == 200, response.text
    stored = Path(response.json()[0])
    assert page.jobs.resolve() in stored.resolve().parents, stored
    assert page.http.get(f"/gradio_api/file={stored}").content == b"GIF89a" + stamp.encode()


# -- 14: other sites and other Host names are refused ------------------------------------------------


def test_other_origins_and_hosts_are_refused(page):
    evil = _upload(page.http, b"x", headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and "requests from http://evil.example are refused" in evil.text
    other_port = _upload(page.http, b"x", headers={"Origin": f"http://127.0.0.1:{page.port + 1}"})
    assert other_port.status_code == 403
    rebound = page.http.get("/", headers={"Host": "evil.example"})
    assert rebound.status_code == 403 and "is not this server" in rebound.text
    assert _upload(page.http, b"x", headers={"Host": f"evil.example:{page.port}"}).status_code == 403
    # the page itself, and loopback names, are fine
    assert _upload(page.http, b"x", headers={"Origin": page.url.rstrip("/")}).status_code == 200
    assert page.http.get("/", headers={"Host": f"localhost:{page.port}"}).status_code == 200
    assert page.http.get("/gradio_api/info").status_code == 200


def test_allow_host_and_allow_origin_widen_it(tmp_path):
    server = _serve(tmp_path, "--allow-host", "studio.lan", "--allow-origin", "http://tools.lan:9000")
    try:
        assert server.http.get("/", headers={"Host": f"studio.lan:{server.port}"}).status_code == 200
        assert _upload(server.http, b"x", headers={"Origin": "http://tools.lan:9000"}).status_code == 200
        assert _upload(server.http, b"x", headers={"Origin": "http://evil.example"}).status_code == 403
    finally:
        server.http.close()
        stop(server.proc)


def test_a_page_from_another_origin_cannot_call_the_ui(page, chromium, tmp_path):
    """A real browser on a page served from another port posts an upload to the UI: the UI refuses it."""
    import http.server
    import socketserver

    html = f"""<html><body><script>
      const form = new FormData(); form.append("files", new Blob(["stolen"]), "x.mp4");
      fetch("{page.url}gradio_api/upload", {{method: "POST", body: form, mode: "no-cors"}})
        .then(() => fetch("{page.url}gradio_api/info")).then(r => r.text())
        .then(t => document.title = "read:" + t, e => document.title = "blocked");
    </script></body></html>"""
    (tmp_path / "index.html").write_text(html)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    with socketserver.TCPServer(("127.0.0.1", 0), handler) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        seen: list[tuple[str, int]] = []
        # the session's browser (one Playwright per process: a second sync instance cannot start beside it)
        context = chromium.new_context()
        tab = context.new_page()
        tab.on("response", lambda r: seen.append((r.url, r.status)) if r.url.startswith(page.url) else None)
        tab.goto(f"http://127.0.0.1:{other.server_address[1]}/index.html")
        tab.wait_for_function("document.title !== ''", timeout=30_000)
        title = tab.title()
        tab.wait_for_timeout(500)
        context.close()
        other.shutdown()
    # the other page learns nothing of the UI: at most the refusal itself
    assert title == "blocked" or ("only the page itself may call this server" in title and "named_endpoints" not in title), title
    uploads = [status for url, status in seen if url.endswith("/gradio_api/upload")]
    infos = [status for url, status in seen if url.endswith("/gradio_api/info")]
    assert uploads == [403] and infos == [403], seen


# -- 15: the whole request is capped; password guessing is slowed; settings are not public ----------------


def test_total_request_size_is_capped(page):
    each = b"\0" * 90_000  # every file under the 200 KB limit, four of them over it
    response = _upload(page.http, each, each, each, each)
    assert response.status_code == 413 and "larger than --max-upload (200,000 bytes in all)" in response.text

    def chunks():  # no Content-Length: counted as it streams
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
        for _ in range(10):
            yield b"\0" * 50_000
        yield b"\r\n--b--\r\n"

    streamed = page.http.post("/gradio_api/upload", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert streamed.status_code == 413, streamed.text


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    root = tmp_path_factory.mktemp("locked")
    (root / "auth.txt").write_text("ana:s3cret\n")
    server = _serve(root, "--auth-file", str(root / "auth.txt"))
    yield server
    server.http.close()
    stop(server.proc)


def test_auth_file_signs_in_and_keeps_the_password_out_of_ps(locked):
    assert locked.http.post("/login", data={"username": "ana", "password": "s3cret"}).status_code == 200
    assert "s3cret" not in " ".join(locked.proc.args)


def test_openapi_schema_is_not_public_with_auth(locked):
    assert httpx.get(locked.url + "openapi.json", timeout=30).status_code in (401, 404)
    assert httpx.get(locked.url + "gradio_api/info", timeout=30).status_code == 401


def test_wrong_passwords_are_rate_limited(locked):
    # from another loopback address, so the other tests' client is not locked out
    client = httpx.Client(base_url=locked.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    statuses = [client.post("/login", data={"username": "ana", "password": f"guess{i}"}).status_code for i in range(12)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}, statuses
    refused = client.post("/login", data={"username": "ana", "password": "s3cret"})  # even the right one, for now
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert locked.http.post("/login", data={"username": "ana", "password": "s3cret"}).status_code == 200  # others are not locked
    client.close()


@pytest.mark.parametrize("env, args, message", [
    ({"ROTOSCOPE_AUTH": "ana"}, ["--listen"], "--auth must be user:password"),
    ({}, ["--listen", "--auth-file", "{tmp}/missing.txt"], "--auth-file {tmp}/missing.txt cannot be read"),
    ({}, ["--listen", "--auth-file", "{tmp}/empty.txt"], "--auth must be user:password"),
])
def test_auth_from_env_and_file_is_checked(tmp_path, env, args, message):
    (tmp_path / "empty.txt").write_text("")
    full_env = dict(os.environ, PYTHONPATH=SRC, **env)
    done = subprocess.run([sys.executable, "-c", "from rotoscope.cli import main; main()", "ui",
                           *[a.format(tmp=tmp_path) for a in args]], env=full_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message.format(tmp=tmp_path) in " ".join((done.stdout + done.stderr).split())


# -- SIGTERM: one line, a clean exit ------------------------------------------------------------------------


def test_temp_folder_emptied_at_start_and_sigterm_stops_with_one_line(tmp_path):
    stale = tmp_path / "jobs" / ".gradio" / "old" / "upload.mp4"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left over")
    server = _serve(tmp_path)
    server.http.close()
    assert not stale.exists()
    server.proc.terminate()
    assert server.proc.wait(timeout=60) == 0
    server.reader.join(timeout=10)
    output = "".join(server.lines)
    assert "rotoscope web UI: stopped (SIGTERM)" in output, output
    assert "Traceback" not in output
