"""Safety of `rotoscope ui`: loopback unless authenticated, upload limit, nothing outside the jobs folder, nothing fetched."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import free_port


# -- --listen without --auth --------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--listen"], "--listen makes the page reachable from other machines; add --auth user:password"),
    (["--host", "0.0.0.0"], "--host 0.0.0.0 makes the page reachable from other machines; add --auth"),
    (["--listen", "--auth", "ana"], "--auth must be user:password"),
    (["--max-upload", "lots"], "size 'lots' is not understood"),
])
def test_cli_refuses_unsafe_settings(cli, args, message):
    result = cli("ui", *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output


def test_default_binds_loopback():
    from rotoscope.ui.server import UIConfig

    assert UIConfig().bind == "127.0.0.1"
    assert UIConfig(listen=True, auth="ana:pw").bind == "0.0.0.0"
    UIConfig(listen=True, auth="ana:pw").validate()  # allowed with auth


# -- a server with auth and a 200 KB upload limit ------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    from types import SimpleNamespace

    from rotoscope.ui.server import UIConfig, start

    root = tmp_path_factory.mktemp("guarded")
    (root / "secret.txt").write_text("not for the web")
    jobs = root / "jobs"
    demo, url = start(UIConfig(port=free_port(), jobs_dir=jobs, auth="ana:s3cret", max_upload=200_000))
    http = httpx.Client(base_url=url, timeout=30)
    login = http.post("/login", data={"username": "ana", "password": "s3cret"})
    assert login.status_code == 200, login.text
    yield SimpleNamespace(url=url, jobs=jobs, root=root, http=http)
    http.close()
    demo.close()


def test_auth_is_required(guarded):
    anonymous = httpx.get(guarded.url + "gradio_api/info", timeout=30)
    assert anonymous.status_code == 401
    assert httpx.post(guarded.url + "login", data={"username": "ana", "password": "wrong"}, timeout=30).status_code == 400


def test_oversized_upload_is_refused(guarded, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * 230_000)  # over the per-file limit, under the whole-request cap (+64 KB)
    with big.open("rb") as handle:
        response = guarded.http.post("/gradio_api/upload", files={"files": ("big.mp4", handle, "video/mp4")})
    assert response.status_code == 413
    assert "File size exceeded maximum allowed size of 200000 bytes" in response.text


@pytest.mark.parametrize("target", [
    "/etc/passwd", "{root}/secret.txt", "{jobs}/../secret.txt", "{jobs}/%2e%2e/secret.txt", "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
])
def test_files_outside_the_jobs_folder_are_refused(guarded, target):
    path = target.format(root=guarded.root, jobs=guarded.jobs)
    response = guarded.http.get(f"/gradio_api/file={path}")
    assert response.status_code == 403 and "File not allowed" in response.text
    assert "not for the web" not in response.text and "root:" not in response.text


def test_files_in_the_jobs_folder_are_served(guarded):
    (guarded.jobs / "cup-1").mkdir(parents=True, exist_ok=True)
    (guarded.jobs / "cup-1" / "output.gif").write_bytes(b"GIF89a")
    response = guarded.http.get(f"/gradio_api/file={guarded.jobs}/cup-1/output.gif")
    assert response.status_code == 200 and response.content == b"GIF89a"


@pytest.mark.parametrize("url", ["/gradio_api/file=https://example.com/x.png", "/gradio_api/file=http://127.0.0.1:1/x",
                                 "/gradio_api/proxy=https://example.hf.space/file=x"])
def test_server_fetches_no_other_host(guarded, url):
    response = guarded.http.get(url)
    assert response.status_code == 403 and "fetches nothing from other hosts" in response.text


@pytest.mark.parametrize("name", ["../../etc", "..", "a/b", "/etc", ".uploads", "a\\..\\b", ""])
def test_job_names_cannot_escape(guarded, name):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(guarded.url, auth=("ana", "s3cret"), verbose=False)
    with pytest.raises(AppError, match="is not allowed: use 1–100 letters, digits"):
        client.predict(name, "", api_name="/resume")
    with pytest.raises(AppError, match="is not allowed"):
        client.predict(name, api_name="/cancel")


def test_api_cannot_write_outside_or_read_server_files(guarded, sample_clip):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(guarded.url, auth=("ana", "s3cret"), verbose=False)
    clip = guarded.root / "small.mp4"
    from rotoscope.api import convert

    convert(sample_clip, [str(clip)], duration=0.3, fps=5, width=64)  # under the 200 KB limit
    with pytest.raises(AppError, match="'outputs' cannot be set over the API"):
        client.predict(handle_file(str(clip)), None, {"model": "classic:oil", "outputs": ["/tmp/evil.gif"]}, api_name="/run")
    with pytest.raises(AppError, match="is not allowed"):
        client.predict(handle_file(str(clip)), None, {"model": "classic:oil", "job": "../escape"}, api_name="/run")
    # --from reads settings from files of ours only: a server file outside the jobs folder is refused
    with pytest.raises(AppError, match="is not in the jobs folder"):
        client.predict(handle_file(str(clip)), None, {"model": "classic:oil", "from_": str(guarded.root / "secret.txt")},
                       api_name="/run")
    with pytest.raises(AppError, match="formats \\['../../evil'\\] are not known"):
        client.predict(handle_file(str(clip)), None, {"model": "classic:oil", "formats": ["../../evil"]}, api_name="/run")
    # a file argument naming a server path (not an upload) is refused by gradio before our code runs
    response = guarded.http.post("/gradio_api/call/probe", json={"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]})
    event = response.json()["event_id"]
    stream = guarded.http.get(f"/gradio_api/call/probe/{event}").text
    assert "event: error" in stream and "root:" not in stream
    assert not (guarded.root.parent / "escape").exists()


# -- answers tell nothing about the server's disk --------------------------------------------------------


@pytest.mark.parametrize("key, existing, missing", [
    ("model", "{root}/secret.txt", "{root}/nothing.safetensors"),
    ("lora", ["{root}/secret.txt:0.8"], ["{root}/nothing.safetensors"]),
    ("from_", "{root}/secret.txt", "{root}/nothing.png"),
    ("control_image_dir", ["tile={root}"], ["tile={root}/nothing"]),
    ("vae", "/etc", "/nothing-here"),
])
def test_missing_and_forbidden_server_paths_read_the_same(guarded, sample_clip, key, existing, missing):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from rotoscope.api import convert

    clip = guarded.root / "tiny.mp4"
    if not clip.exists():
        convert(sample_clip, [str(clip)], duration=0.3, fps=5, width=64)  # under the 200 KB limit

    def fill(value):
        return [v.format(root=guarded.root) for v in value] if isinstance(value, list) else value.format(root=guarded.root)

    client = Client(guarded.url, auth=("ana", "s3cret"), verbose=False)
    (guarded.jobs / ".uploads").mkdir(parents=True, exist_ok=True)
    messages = []
    for value in (existing, missing):
        with pytest.raises(AppError) as caught:
            client.predict(handle_file(str(clip)), None, {"model": "classic:oil", key: fill(value)} if key != "model"
                           else {key: fill(value)}, api_name="/run")
        text = str(caught.value)
        messages.append(text.replace(str(guarded.root), "ROOT").replace("nothing.safetensors", "X").replace("secret.txt", "X")
                        .replace("/nothing-here", "P").replace("/etc", "P").replace("nothing.png", "X").replace("/nothing", ""))
    assert "is not in the jobs folder" in messages[0], messages
    assert messages[0] == messages[1], messages


def test_jobs_lists_names_not_server_paths(guarded):
    import json

    from gradio_client import Client

    job = guarded.jobs / "cup-7"
    (job / "frames").mkdir(parents=True, exist_ok=True)
    upload = guarded.jobs / ".uploads" / "abc" / "cup.mp4"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"x")
    (job / "job.json").write_text(json.dumps({"spec": {"source": str(upload), "method": "gif2gif",
                                                       "style": {"prompt": "ink", "seed": 7}, "model": {"model": "tiny"}}}))
    (job / "output.gif").write_bytes(b"GIF89a")
    client = Client(guarded.url, auth=("ana", "s3cret"), verbose=False)
    rows = client.predict(api_name="/jobs")
    row = next(r for r in rows if r["name"] == "cup-7")
    assert row["source"] == ".uploads/abc/cup.mp4" and row["outputs"] == ["cup-7/output.gif"], row
    assert str(guarded.root) not in json.dumps(rows)
