"""The paper's scoring protocol (kvae-model.md, section 8, last bullet) against references
written here: sampled codes, batches of 32 with one shared mask, per-batch pooling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kvae_reference import STEPS, TRAIN_CONFIG, box_data

from model import evaluation
from model.evaluation import PAPER_BATCH, evaluate, imputation_metrics, sample_codes, sweep
from model.imputation import generate, impute
from model.kvae import KVAE
from model.masks import planning_mask


@pytest.fixture(scope="module")
def model() -> KVAE:
    torch.manual_seed(3)
    return KVAE(TRAIN_CONFIG).eval()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return box_data(70, seed=5)[0]  # two whole batches of 32 and a partial one of 6


def test_the_codes_are_sampled_with_the_seed(model, images):
    mask = planning_mask(STEPS, 3, 5)
    first = imputation_metrics(model, images, mask, protocol="paper", seed=1)
    again = imputation_metrics(model, images, mask, protocol="paper", seed=1)
    other = imputation_metrics(model, images, mask, protocol="paper", seed=2)
    assert first == again
    assert first["protocol"] == "paper"
    assert first["hamming"]["smoothing"] != other["hamming"]["smoothing"]
    assert first["nrmse_a"] != other["nrmse_a"]
    # The studio's protocol filters the encoder's means: no seed enters a planning figure.
    studio = [imputation_metrics(model, images, mask, seed=s)["hamming"] for s in (1, 2)]
    assert studio[0] == studio[1]


def test_one_mask_for_every_batch_and_the_partial_batch_dropped(model, images, monkeypatch):
    seen = []

    def spy(model_, x, mask, **kwargs):
        seen.append((x.shape[0], mask.cpu().numpy().copy(), kwargs["codes"]))
        return impute(model_, x, mask, **kwargs)

    monkeypatch.setattr(evaluation, "impute", spy)
    result = evaluate(model, images, "random", drop_prob=0.5, seed=4, protocol="paper")
    assert result["sequences"] == 64
    assert [n for n, _, _ in seen] == [PAPER_BATCH, PAPER_BATCH]
    masks = [m for _, m, _ in seen]
    assert masks[0].shape == (PAPER_BATCH, STEPS)
    np.testing.assert_array_equal(masks[0], masks[1])
    assert len({row.tobytes() for row in masks[0]}) > 1  # one mask, but its rows differ
    assert (masks[0][:, :3] == 1).all() and (masks[0] == 0).any()
    assert not torch.equal(seen[0][2], seen[1][2])  # fresh samples for each batch

    # The 6 sequences past the last whole batch play no part.
    spoiled = images.copy()
    spoiled[64:] = 1.0 - spoiled[64:]
    monkeypatch.setattr(evaluation, "impute", impute)
    again = evaluate(model, spoiled, "random", drop_prob=0.5, seed=4, protocol="paper")
    assert again["hamming"] == result["hamming"] and again["nrmse_a"] == result["nrmse_a"]


def _reference(model, images, mask, seed):
    """The original's impute_all, spelled out: per batch of 32, Hamming pooled over the
    hidden pixels of the batch, baseline from its first sequence; then plain means."""
    gen = torch.Generator().manual_seed(seed)
    n_init = model.config.t_init_mask
    per_batch = []
    for b in range(len(images) // 32):
        x = torch.as_tensor(images[32 * b : 32 * b + 32])
        codes = sample_codes(model, x, gen)
        m = torch.as_tensor(mask)
        res = impute(model, x, m, codes=codes)
        gen_x = generate(model, x, n_init, codes=codes).x.numpy()
        truth = images[32 * b : 32 * b + 32] > 0
        hidden = mask < 0.5
        figures = []
        for pred in (res.x_smoothed.numpy(), res.x_filtered.numpy(), gen_x):
            wrong = total = 0
            for i in range(32):
                for t in range(mask.shape[1]):
                    if hidden[i, t]:
                        wrong += int(np.sum(truth[i, t] != (pred[i, t] > 0.5)))
                        total += truth[i, t].size
            figures.append(wrong / total)
        baseline = 0.0
        for i in (0, 3, 6):
            for j in (9, 12, 15):
                if j < truth.shape[1]:
                    baseline = max(baseline, float(np.mean(truth[0, i] != truth[0, j])))
        figures.append(baseline)
        per_batch.append(figures)
    return [sum(col) / len(col) for col in zip(*per_batch, strict=True)]


def test_pooling_matches_a_plain_reference(model, images):
    rng = np.random.default_rng(0)
    mask = np.ones((32, STEPS), dtype=np.float32)
    mask[:, 3:] = rng.random((32, STEPS - 3)) > 0.4
    got = imputation_metrics(model, images, mask, protocol="paper", seed=7)["hamming"]
    want = _reference(model, images, mask, seed=7)
    np.testing.assert_allclose(
        [got["smoothing"], got["filtering"], got["generation"], got["baseline"]], want, rtol=1e-12
    )


def test_the_sweep_records_its_protocol_and_refuses_too_few_sequences(model, images):
    rows = sweep(model, images[:32], protocol="paper")
    assert {r["protocol"] for r in rows} == {"paper"}
    assert {r["kind"] for r in rows} == {"planning", "random"}
    assert {r["protocol"] for r in sweep(model, images[:4])} == {"studio"}
    with pytest.raises(ValueError, match="batches of 32"):
        sweep(model, images[:31], protocol="paper")
    with pytest.raises(ValueError, match="unknown protocol"):
        evaluate(model, images, protocol="tf")


def test_the_sweep_csv_is_readable_by_others(tmp_path):
    """Written like every other file of the studio (not with mkstemp's owner-only 0600)."""
    import os
    import stat

    from model.sweep_csv import write_sweep_csv

    old = os.umask(0o022)
    try:
        path = tmp_path / "sweep.csv"
        row = {"protocol": "studio", "kind": "planning", "x": 1, "smoothing": 0.1}
        write_sweep_csv(path, {"m": [{**row, "filtering": 0.2, "generation": 0.2, "baseline": 1}]})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text().splitlines()[1].startswith("m,studio,planning,1,0.1,")


def test_decode_only_decodes_the_chosen_frames_alike_and_leaves_the_rest_zero(model, images):
    """The scores decode the hidden frames alone (model.evaluation._run): those frames
    must be what a whole decode gives (test_pooling_matches_a_plain_reference checks the
    figures against a reference that decodes everything)."""
    x = torch.as_tensor(images[:5])
    mask = torch.as_tensor(planning_mask(STEPS, 3, 6)).expand(5, -1)
    where = torch.zeros(5, STEPS, dtype=torch.bool)
    where[:, 4:7] = True
    where[2, 0] = True
    whole, part = impute(model, x, mask), impute(model, x, mask, decode_only=where)
    rolled = generate(model, x, 3)
    rolled_part = generate(model, x, 3, decode_only=where)
    pairs = [(whole.x_smoothed, part.x_smoothed), (whole.x_filtered, part.x_filtered),
             (rolled.x, rolled_part.x)]  # fmt: skip
    for full, only in pairs:
        torch.testing.assert_close(only[where], full[where], rtol=1e-5, atol=1e-6)
        assert not only[~where].any() and full[~where].any()
    torch.testing.assert_close(part.a_smoothed_mean, whole.a_smoothed_mean)
