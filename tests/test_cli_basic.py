"""The `kvae-studio` command line: subcommands, light imports, simulate and info end to end."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from kvae_studio import cli
from kvae_studio.sim import SCENES
from kvae_studio.window_options import WindowOptions
from model.data import load_sequences

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("torch", "PySide6", "pyqtgraph")

_PROBE = """
import contextlib, io, json, sys
from kvae_studio.cli import main
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(json.loads(sys.argv[1]))
except SystemExit as exit:
    code = exit.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"code": code, "heavy": heavy, "output": out.getvalue()}))
"""


def _probe(args: list[str]) -> dict:
    """Run the command in a fresh interpreter; report its exit code and heavy imports."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_help_simulate_and_info_import_no_torch_and_no_qt(tmp_path):
    out = str(tmp_path / "small.npz")
    for args in (
        ["--help"],
        ["simulate", "--help"],
        ["simulate", "box", "--sequences", "3", "--steps", "2", "--out", out],
        ["info", out],
        ["info", str(ROOT / "resources" / "models" / "pong.safetensors")],
        ["info", "pong", "paper-pong-test"],  # shipped files by name
    ):
        report = _probe(args)
        assert report["code"] == 0, (args, report["output"])
        assert report["heavy"] == [], f"kvae-studio {' '.join(args)} imported {report['heavy']}"


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    assert exit.value.code == 0
    text = capsys.readouterr().out
    for command in ("simulate", "info"):
        assert command in text
    for flag in ("--screenshot", "--scene", "--seed", "--size"):
        assert flag in text


def test_simulate_help_lists_every_scene_parameter(capsys):
    with pytest.raises(SystemExit):
        cli.main(["simulate", "--help"])
    text = capsys.readouterr().out
    for cls in SCENES.values():
        for field in dataclasses.fields(cls):
            assert f"--{field.name.replace('_', '-')}" in text, field.name


def test_simulate_then_info(tmp_path, capsys):
    out = tmp_path / "pong.npz"
    code = cli.main(
        ["simulate", "pong", "--sequences", "12", "--steps", "5", "--seed", "3", "--out", str(out)]
    )
    assert code == 0
    assert "wrote 12 pong sequences" in capsys.readouterr().out
    data = load_sequences(out)
    assert data.images.shape == (12, 5, 32, 32) and data.state.shape == (12, 5, 4)
    assert cli.main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12 sequences x 5 frames of 32x32 px" in text and "speed [" in text


def test_simulate_is_deterministic_and_takes_scene_flags(tmp_path, capsys):
    def make(name: str, *flags: str) -> Path:
        path = tmp_path / name
        args = ["simulate", "box", "--sequences", "8", "--steps", "4", "-q", "--out", str(path)]
        assert cli.main([*args, *flags]) == 0
        return path

    first, second = make("a.npz"), make("b.npz")
    assert first.read_bytes() == second.read_bytes()
    other_seed = make("c.npz", "--seed", "1")
    assert other_seed.read_bytes() != first.read_bytes()
    big = load_sequences(make("big.npz", "--size", "64"))
    assert big.images.shape == (8, 4, 64, 64)
    small_ball = load_sequences(make("r2.npz", "--ball-radius", "2"))
    normal = load_sequences(first)
    walls = normal.images.min(axis=(0, 1)) > 0
    lit_small = (small_ball.images > 0)[..., ~walls].sum(-1).mean()
    lit_normal = (normal.images > 0)[..., ~walls].sum(-1).mean()
    assert lit_small < 0.6 * lit_normal
    polygon = tmp_path / "tri.npz"
    args = ["simulate", "polygon", "--sequences", "2", "--steps", "2", "-q", "--out", str(polygon)]
    assert cli.main([*args, "--walls", "2,2 29,2 15,29", "--ball-radius", "2"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("size", [32, 64])
def test_rotation_marker_flag_adds_the_tail_and_keeps_the_motion(tmp_path, size):
    """`simulate --rotation-marker`, run as a command: same motion as without, and once
    binarised the marker adds at most one pixel (its tail past the rim) to each frame."""

    def run(name: str, *flags: str):
        path = tmp_path / name
        args = ["simulate", "box", "--sequences", "20", "--size", str(size), "-q"]
        result = subprocess.run(
            [sys.executable, "-m", "kvae_studio", *args, "--out", str(path), *flags],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return load_sequences(path)

    plain, marked = run("plain.npz"), run("marked.npz", "--rotation-marker")
    assert np.array_equal(plain.state, marked.state)
    grey = (marked.images > 0) & (marked.images < 1)
    assert grey.any(axis=(2, 3)).all()  # every frame shows the marker
    added = (marked.images > 0).sum(axis=(2, 3)) - (plain.images > 0).sum(axis=(2, 3))
    assert set(np.unique(added)) <= {0, 1} and (added == 1).mean() > 0.8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "pong", "--inset", "3"], "--inset does not apply to scene pong"),
        (["simulate", "box", "--ball-radius", "14"], "does not fit"),
        (["simulate", "polygon", "--walls", "1,1 30,30 30,1 1,30"], "convex"),
        (["info", "/no/such/file.npz"], "no such file"),
    ],
)
def test_bad_input_is_one_error_line(args, message, tmp_path, capsys):
    code = cli.main([*args, "--out", str(tmp_path / "x.npz")] if args[0] == "simulate" else args)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "box", "--sequences", "0"],
        ["simulate", "box", "--walls", "nonsense"],
        ["simulate", "nosuchscene"],
        ["--seed", "3", "info", "x.npz"],
        ["--seed", "0", "info", "x.npz"],  # a window flag with a command, even when 0
        ["--tab", "nowhere"],  # checked before the window opens
        ["--size", "10x10"],
    ],
)
def test_bad_arguments_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(args)
    assert exit.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_no_command_opens_the_window_with_the_arguments(monkeypatch):
    seen = []
    fake = types.ModuleType("kvae_studio.app.main")
    fake.run_app = lambda options: seen.append(options) or 0
    monkeypatch.setitem(sys.modules, "kvae_studio.app.main", fake)
    argv = ["--screenshot", "shot.png", "--scene", "pong", "--seed", "4", "--size", "1024x700"]
    assert cli.main([*argv, "--tab", "Dynamics"]) == 0
    assert seen == [WindowOptions("shot.png", "pong", 4, (1024, 700), "dynamics")]
    assert cli.main([]) == 0 and seen[-1] == WindowOptions(), "the defaults when none given"


def test_no_command_without_the_window_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "kvae_studio.app.main", None)  # makes the import fail
    assert cli.main([]) == 1
    assert "studio window" in capsys.readouterr().err


def test_python_dash_m_and_version():
    result = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "kvae-studio 0." in result.stdout


def test_info_reads_the_original_pong_file(capsys):
    path = Path(__file__).resolve().parent / "data" / "original-pong.npz"
    assert cli.main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "controls object (2,) (needs pickle, not read)" in text
    assert "scaled from [0, 65793]" in text
    assert np.isclose(float(text.split("lit:")[1].split()[0]), 84.4, atol=0.1)


def test_interrupted_simulation_writes_nothing(tmp_path, monkeypatch, capsys):
    import kvae_studio.sim

    real = kvae_studio.sim.iter_batches

    def interrupted(*args, **kwargs):
        batches = real(*args, **kwargs)
        yield next(batches)
        raise KeyboardInterrupt

    monkeypatch.setattr(kvae_studio.sim, "iter_batches", interrupted)
    out = tmp_path / "box.npz"
    assert cli.main(["simulate", "box", "--sequences", "600", "--out", str(out)]) == 130
    assert "nothing written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_draws_on_a_terminal_only(monkeypatch, capsys):
    from kvae_studio.commands import terminal

    monkeypatch.setattr(terminal, "on_terminal", lambda: True)
    bar = terminal.progress_bar("box", 10, "seq", mininterval=0)
    step = terminal.count_to(bar)
    step(5, 10)
    step(10, 10)
    bar.close()
    drawn = capsys.readouterr().err
    assert "box" in drawn and "5/10" in drawn and "10/10" in drawn
    monkeypatch.setattr(terminal, "on_terminal", lambda: False)  # a log, a pipe: nothing
    quiet = terminal.progress_bar("box", 10, "seq", mininterval=0)
    terminal.count_to(quiet)(5, 10)
    quiet.close()
    assert capsys.readouterr().err == ""


def test_info_describes_a_model_file_from_its_header():
    """`info MODEL` says the network, the training and the options that differ from the
    defaults; a pickle file is one line and exit code 2 (run as a command)."""
    model = ROOT / "resources" / "models" / "pong.safetensors"
    done = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "info", str(model)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "K = 3 regimes, 144,492 weights" in done.stdout
    assert "on pong, epoch 18" in done.stdout
    assert "kf_update_steps=0" in done.stdout  # its fine-tune's schedule, not the default


def test_shipped_models_and_data_sets_are_taken_by_name(tmp_path):
    """An installed studio's files lie under share/kvae-studio: `box`, `paper-pong-test`
    name them wherever no file of that name is in the working folder (which wins)."""

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kvae_studio", *args],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )  # fmt: skip

    models = ("box", "box_gravity", "polygon", "pong", "box-mlp-alpha")
    done = run("info", *models, "paper-pong-test")
    assert done.returncode == 0, done.stderr
    assert str(Path("models") / "box.safetensors") in done.stdout
    assert "on box, epoch 31" in done.stdout
    assert "200 sequences x 20 frames" in done.stdout
    # Every shipped model says how it was trained (issue 25): precision, time, machine.
    runs = [line for line in done.stdout.splitlines() if line.startswith("  run: ")]
    assert len(runs) == len(models), done.stdout
    for line in runs:
        assert line.startswith(("  run: fp32", "  run: bf16")), line
        assert "min of training, on 2 CPU cores (AMD EPYC" in line, line

    done = run("evaluate", "pong", "paper-pong-test", "--sequences", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sequences"] == 2
    assert "pong: the studio's shipped pong.safetensors" in done.stderr  # said, not silent

    (tmp_path / "box").write_bytes(b"not a model")  # a file of the name wins
    done = run("info", "box")
    assert done.returncode == 2 and done.stderr.startswith("error: box: not an .npz file")
    done = run("info", "no-such-model")
    assert done.returncode == 2 and "no-such-model: no such file" in done.stderr
    help_text = " ".join(run("evaluate", "--help").stdout.split())
    assert "a shipped model by name: box, box-mlp-alpha, box_gravity, polygon, pong" in help_text


def test_info_refuses_a_pickle_model_in_one_line(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x80\x04 pickled")
    done = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "info", str(bad)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "pickle" in done.stderr
