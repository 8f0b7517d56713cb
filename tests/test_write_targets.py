"""Where an atomic write lands: never over a device, a pipe or a folder; through a link.

Every file the studio writes is a temporary file renamed over its target. Renamed onto a
device or a pipe, it replaces the node itself (run as root, `simulate --out /dev/null`
turned /dev/null into a data file), and renamed onto a symbolic link it cuts the link.
"""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest
from bad_input import assert_one_clear_line, kvae_studio

from kvae_studio.document.session import Session, SessionError, save_session
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import DatasetError, load_sequences
from model.kvae import KVAE
from model.sequence_writer import SequenceWriter
from model.temp_files import NotAFileError, atomic_write_bytes

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and links")


@pytest.fixture
def pipe(tmp_path):
    path = tmp_path / "pipe.npz"
    os.mkfifo(path)
    return path


def _still_a_pipe(path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode) and os.listdir(path.parent) == [path.name]


def test_every_writer_refuses_a_pipe_and_leaves_it_as_it_was(pipe):
    with pytest.raises(NotAFileError, match="it is a pipe, not a file"):
        atomic_write_bytes(pipe, b"data")
    assert _still_a_pipe(pipe)
    with pytest.raises(DatasetError, match=r"pipe\.npz: cannot write: it is a pipe"):
        SequenceWriter(pipe, (1, 2, 4, 4))
    assert _still_a_pipe(pipe)
    session = Session(np.zeros((2, 4, 4)), np.zeros(2, bool), np.zeros((2, 4, 4), bool))
    with pytest.raises(SessionError, match=r"cannot write the session.*a pipe"):
        save_session(pipe, session)
    assert _still_a_pipe(pipe)
    with pytest.raises(NotAFileError, match="it is a folder"):
        save_model(KVAE(KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=4)), pipe.parent)
    assert _still_a_pipe(pipe)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_simulate_onto_a_device_node_says_so_and_leaves_the_node(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null
    result = kvae_studio("simulate", "box", "--sequences", "4", "--out", str(null))
    assert_one_clear_line(result, "it is a device, not a file")
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.listdir(tmp_path) == ["null"]


def test_simulate_onto_a_pipe_says_so_in_one_line(pipe):
    result = kvae_studio("simulate", "box", "--sequences", "4", "--out", str(pipe))
    assert_one_clear_line(result, "it is a pipe, not a file")
    assert _still_a_pipe(pipe)


def test_a_write_through_a_link_replaces_the_file_it_names_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.npz"
    real.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(real.name)
    kvae_studio("simulate", "box", "--sequences", "4", "--out", str(link), check=True)
    assert link.is_symlink() and os.readlink(link) == "real.npz"
    assert load_sequences(real).images.shape[0] == 4
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real.npz"]
