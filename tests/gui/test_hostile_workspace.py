"""Issue 26: the window starts whatever the workspace holds.

Each trigger once stopped the studio at start-up (a traceback, then "Signal source has
been deleted" from the model process's reader thread at exit): a workspace catalog that
is not UTF-8 or is nested deeper than Python's stack, a workspace data set whose zip
entry is flagged encrypted, a remembered last model whose summary is nested too deeply.
Each test launches the real studio, `kvae-studio` with no command, in a process of its
own (offscreen, its workspace and settings in a temporary folder), waits for its first
result, reads what the window says and closes it. A file the studio keeps (the catalog)
is set aside, never deleted; a file that is the user's (a data set, a model) is left
as it is and skipped, with one note in the window.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import hostile_files as hostile
import numpy as np

REPO = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT_S = 300

_LAUNCH = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication([sys.argv[0]])
seen = {}

def look():
    windows = [w for w in app.topLevelWidgets() if w.inherits("QMainWindow") and w.isVisible()]
    if not windows or windows[0].explore.result is None:
        QTimer.singleShot(20, look)  # until the window is up and its first result shown
        return
    window = windows[0]
    box = window.notice_box
    seen.update(
        notice=box.text() if box is not None and box.isVisible() else None,
        errors=list(window.errors),
        model=window.current_model_path,
        card=window.explore.sequence_controls.model_label.text(),
    )
    window.close()

QTimer.singleShot(0, look)
from kvae_studio.cli import main
code = main([])
print(json.dumps({"code": code, **seen}))
"""


def launch(home: Path, config: Path) -> dict:
    """Start the studio as `kvae-studio` does, with this workspace and these settings;
    what the window said once its first result was in."""
    env = dict(
        os.environ,
        KVAE_STUDIO_HOME=str(home),
        XDG_CONFIG_HOME=str(config),
        QT_QPA_PLATFORM="offscreen",
        OMP_NUM_THREADS="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH],
        capture_output=True,
        text=True,
        timeout=LAUNCH_TIMEOUT_S,
        env=env,
        cwd=REPO,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert "Exception in thread" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0 and seen["errors"] == [], seen
    return seen


def workspace(tmp_path: Path) -> tuple[Path, Path]:
    home, config = tmp_path / "home", tmp_path / "config"
    home.mkdir()
    config.mkdir()
    return home, config


def settings_file(config: Path) -> Path:
    return config / "KVAE Studio" / "KVAE Studio.ini"


def remember_last_model(config: Path, model: Path) -> None:
    settings_file(config).parent.mkdir(parents=True)
    settings_file(config).write_text(f"[files]\nlast_model={model}\n")


def assert_catalog_set_aside(home: Path, seen: dict, content: bytes) -> None:
    assert "catalog.json" in seen["notice"], seen
    assert not (home / "catalog.json").exists()
    [aside] = [p for p in home.iterdir() if p.name.startswith("catalog.json.unreadable-")]
    assert aside.read_bytes() == content  # renamed, never deleted


def test_a_catalog_that_is_not_utf8_is_set_aside(tmp_path):
    home, config = workspace(tmp_path)
    content = '{"datasets": ["/tmp/caf\xe9.npz"], "models": []}'.encode("latin-1")
    (home / "catalog.json").write_bytes(content)  # a path saved by a Latin-1 editor
    assert_catalog_set_aside(home, launch(home, config), content)


def test_a_catalog_nested_too_deeply_is_set_aside(tmp_path):
    home, config = workspace(tmp_path)
    content = hostile.DEEP.encode()
    (home / "catalog.json").write_bytes(content)
    assert_catalog_set_aside(home, launch(home, config), content)


def test_a_workspace_data_set_flagged_encrypted_is_skipped_with_a_note(tmp_path):
    home, config = workspace(tmp_path)
    (home / "datasets").mkdir()
    path = hostile.encrypted_dataset(home / "datasets" / "x-train.npz")
    content = path.read_bytes()
    seen = launch(home, config)
    assert "x-train.npz" in seen["notice"] and "encrypted" in seen["notice"], seen
    assert path.read_bytes() == content  # the user's file, left as it is


def test_a_last_model_whose_summary_is_nested_too_deeply_is_skipped_and_forgotten(tmp_path):
    home, config = workspace(tmp_path)
    model = hostile.model_file(home / "model.safetensors", summary=hostile.DEEP)
    content = model.read_bytes()
    remember_last_model(config, model)
    seen = launch(home, config)
    assert "model.safetensors" in seen["notice"], seen
    assert "nested too deeply" in seen["notice"], seen
    assert Path(seen["model"]).name == "box.safetensors"  # the shipped model instead
    assert model.read_bytes() == content
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(settings_file(config))
    assert not ini.get("files", "last_model", fallback="")  # said once, not every start


def test_a_last_model_whose_summary_holds_1e999_opens_and_claims_no_epochs(tmp_path):
    home, config = workspace(tmp_path)
    model = hostile.model_file(home / "model.safetensors", summary='{"epoch": 1e999}')
    remember_last_model(config, model)
    seen = launch(home, config)
    assert seen["notice"] is None, seen
    assert seen["model"] == str(model.resolve())
    assert "inf" not in seen["card"], seen["card"]  # not "inf epochs"


def test_the_screenshot_of_a_hostile_workspace(tmp_path):
    """The command as a user runs it: `kvae-studio --screenshot` with a catalog that is
    not UTF-8 and an encrypted data set in the workspace."""
    home, config = workspace(tmp_path)
    (home / "catalog.json").write_bytes('{"datasets": ["caf\xe9"]}'.encode("latin-1"))
    (home / "datasets").mkdir()
    hostile.encrypted_dataset(home / "datasets" / "x-train.npz")
    out = tmp_path / "shot.png"
    env = dict(
        os.environ,
        KVAE_STUDIO_HOME=str(home),
        XDG_CONFIG_HOME=str(config),
        QT_QPA_PLATFORM="offscreen",
    )
    done = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "--screenshot", str(out)],
        capture_output=True,
        text=True,
        timeout=LAUNCH_TIMEOUT_S,
        env=env,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception in thread" not in done.stderr
    import cv2

    picture = cv2.imread(str(out))
    assert picture is not None and np.asarray(picture).std() > 10
