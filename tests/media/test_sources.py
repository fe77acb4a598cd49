"""Sources that are not regular files get a one-line error saying what they are (issue 17)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from rotoscope.errors import InputError
from rotoscope.media.decode import iter_frames
from rotoscope.media.probe import probe
from rotoscope.media.sources import check_file

READERS = {"probe": probe, "decode": lambda path: next(iter_frames(path))}


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_dev_zero_is_a_character_device_not_empty(read):
    with pytest.raises(InputError, match=r"^/dev/zero is a character device, not a regular file; give a video"):
        read("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_fifo_is_refused_without_blocking(tmp_path, read):
    fifo = tmp_path / "stream.mp4"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"is a pipe \(FIFO\), not a regular file; save the stream to a file first"):
        read(fifo)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_socket(tmp_path):
    path = tmp_path / "s.mp4"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match="is a socket, not a regular file"):
            probe(path)


def test_a_folder_given_as_a_file(tmp_path):
    with pytest.raises(InputError, match="is a folder, not a regular file"):
        check_file(tmp_path)


def test_regular_files_still_get_the_usual_messages(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        check_file(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError, match=r"is empty \(0 bytes\)"):
        check_file(tmp_path / "empty.mp4")
    (tmp_path / "ok.mp4").write_bytes(b"x")
    check_file(tmp_path / "ok.mp4")
