"""`kvae-studio inspect`, run as a user runs it: every file with its exact name and shape,
and bad input as one line with nothing written.

A tiny untrained model on a few small sequences: the point is the command's contract, not
what the pictures show.
"""

from __future__ import annotations

import csv
import functools

import cv2
import numpy as np
import pytest
import torch
from bad_input import kvae_studio

from kvae_studio import cli
from kvae_studio.commands.inspect import CSV_COLUMNS, FILES
from kvae_studio.services.dynamics import ERROR_KINDS
from kvae_studio.sim.scenes import scene_params
from kvae_studio.sim.simulate import simulate
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE

STEPS, K, DZ = 10, 2, 3


inspect = functools.partial(kvae_studio, "inspect")  # run as a user runs it


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inspect")
    torch.manual_seed(0)
    config = KVAEConfig(
        frame_size=16, filters=(8, 8), alpha_units=8, K=K, dim_z=DZ, t_init_mask=3,
        t_steps_mask=4,
    )  # fmt: skip
    save_model(KVAE(config), folder / "tiny.safetensors")
    images, state = simulate(scene_params("box", size=16, ball_radius=5.0), 7, STEPS, seed=1)
    save_sequences(folder / "seven.npz", images, state)
    big, _ = simulate(scene_params("box"), 2, STEPS, seed=1)  # 32 px: not for this model
    save_sequences(folder / "big.npz", big)
    (folder / "notes.npz").write_text("not an archive")
    return folder


def test_inspect_writes_every_file(files):
    out = files / "out"
    result = inspect(
        str(files / "tiny.safetensors"), str(files / "seven.npz"), "--out", str(out),
        "--sequences", "5", "--steps", "12", "--samples", "8", "--seed", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert [p.name for p in files.iterdir() if p.name.startswith(".")] == []  # no leftovers

    regimes = np.load(out / "regimes.npz")
    assert sorted(regimes) == ["A", "C", "alpha", "codes"]
    assert regimes["codes"].shape == (5, STEPS, 2) and regimes["alpha"].shape == (5, STEPS, K)
    assert regimes["A"].shape == (K, DZ, DZ) and regimes["C"].shape == (K, 2, DZ)
    np.testing.assert_allclose(regimes["alpha"].sum(-1), 1.0, atol=1e-5)

    generation = np.load(out / "generation.npz")
    assert sorted(generation) == ["codes", "frames"]
    assert generation["codes"].shape == (5, 12, 2)  # fewer than 16 sequences in the file
    assert generation["frames"].shape == (5, 12, 16, 16)

    samples = np.load(out / "posterior-samples.npz")
    assert sorted(samples) == ["object_probability", "smoothed_cov", "smoothed_mean", "z"]
    assert samples["z"].shape == (8, STEPS, DZ)
    assert samples["smoothed_mean"].shape == (STEPS, DZ)
    assert samples["smoothed_cov"].shape == (STEPS, DZ, DZ)
    assert samples["object_probability"].shape == (STEPS, 16, 16)

    with open(out / "error-over-time.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS == (
        "mask", "step", "kind", "median", "lower_quartile", "upper_quartile",
    )  # fmt: skip
    assert {(r["mask"], r["kind"]) for r in rows} == {
        (m, k) for m in ("planning", "random") for k in ERROR_KINDS
    }
    assert len(rows) == 2 * len(ERROR_KINDS) * STEPS
    planning = {int(r["step"]): float(r["median"]) for r in rows
                if r["mask"] == "planning" and r["kind"] == "smoothed"}  # fmt: skip
    hidden = set(range(3, 7))  # t_init_mask 3, t_steps_mask 4
    assert all(np.isnan(v) == (t not in hidden) for t, v in planning.items())

    for name in FILES:
        if name.endswith(".png"):
            picture = cv2.imdecode(np.fromfile(out / name, np.uint8), cv2.IMREAD_COLOR)
            assert picture is not None and min(picture.shape[:2]) > 20, name

    # again into the same folder: the files are replaced, nothing else is touched
    (out / "mine.txt").write_text("keep")
    again = inspect(str(files / "tiny.safetensors"), str(files / "seven.npz"),
                        "--out", str(out), "--steps", "4", "--samples", "2")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert np.load(out / "generation.npz")["codes"].shape == (7, 4, 2)
    assert (out / "mine.txt").read_text() == "keep"


def test_a_missing_model_file_is_one_line_in_a_subprocess(files):
    out = files / "never"
    result = inspect(str(files / "none.safetensors"), str(files / "seven.npz"),
                         "--out", str(out))  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "case",
    ["missing data", "not an npz", "frames of another size", "out is a file", "no folder"],
)
def test_bad_input_is_one_line_and_writes_nothing(files, tmp_path, capsys, case):
    model, data = files / "tiny.safetensors", files / "seven.npz"
    out = tmp_path / "out"
    if case == "missing data":
        data = files / "absent.npz"
    elif case == "not an npz":
        data = files / "notes.npz"
    elif case == "frames of another size":
        data = files / "big.npz"
    elif case == "out is a file":
        out.write_text("a file")
    else:
        out = tmp_path / "no" / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    code = cli.main(["inspect", str(model), str(data), "--out", str(out)])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, no leftovers
    assert case == "out is a file" or not out.exists()


def test_sequences_zero_is_refused_by_the_parser(files, tmp_path, capsys):
    out = tmp_path / "out"
    args = [str(files / "tiny.safetensors"), str(files / "seven.npz"), "--out", str(out)]
    with pytest.raises(SystemExit) as exit:
        cli.main(["inspect", *args, "--sequences", "0"])
    err = capsys.readouterr().err
    assert exit.value.code != 0 and err.count("\n") == 1 and "--sequences" in err
    assert not out.exists()


def test_the_services_stream_and_summarise_without_warnings(files):
    """services.dynamics_run on the same tiny model: chunks stream in order, the alpha map's
    step follows AlphaMap (the grid point in place of the code at `step`), the flow and the
    error curves have their shapes, and all-NaN columns give NaN without a RuntimeWarning."""
    import warnings

    from kvae_studio.services import dynamics_run
    from kvae_studio.services.model_ref import ModelRef
    from model.data import load_sequences
    from model.dynamics import regime_weights

    images = load_sequences(files / "seven.npz").images
    ref = ModelRef(KVAEConfig(), path=str(files / "tiny.safetensors"))  # (config: unused)
    model = dynamics_run.load(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chunks = list(dynamics_run.regime_chunks(ref, images, chunk=3))
        assert [(c.first, c.total, len(c.codes)) for c in chunks] == [(0, 7, 3), (3, 7, 3),
                                                                      (6, 7, 1)]  # fmt: skip
        codes = np.concatenate([c.codes for c in chunks])
        bounds = dynamics_run.code_bounds(codes)
        amap = dynamics_run.alpha_map(model, bounds, 8, codes[2], sequence=2, step=5)
        assert amap.alpha.shape == (K, 8, 8) and (amap.sequence, amap.step) == (2, 5)
        x, y = codes[2, 5]
        point = (x, x, y, y)  # a grid of one point: the code at step 5
        one = dynamics_run.alpha_map(model, point, 1, codes[2], sequence=2, step=5)
        alpha = regime_weights(model, torch.as_tensor(codes[2:3]))[0]
        np.testing.assert_allclose(one.alpha[:, 0, 0], alpha[6].numpy(), atol=1e-6)
        flow = dynamics_run.regime_flow(model, images, cells=4)
        assert flow.flow.shape == (K, 4, 4, 2) and int(flow.counts.sum()) == 7 * STEPS
        errors = dynamics_run.error_over_time(model, images, "planning")
        assert np.isnan(errors.median["smoothed"][:3]).all()  # seen by every sequence
        assert np.isfinite(errors.median["smoothed"][3:7]).all()
        assert np.isfinite(errors.median["baseline"]).all()
        matrices = dynamics_run.regime_matrices(model)
        assert matrices.eigenvalues.shape == (K, DZ) and matrices.eigenvalues.dtype.kind == "c"
