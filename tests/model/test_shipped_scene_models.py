"""Every shipped per-scene model meets issue 11's bar on its scene's original test file.

On tests/data/original-<scene>.npz (200 sequences made by the original generator),
with the studio's protocol: smoothing below filtering with the planning mask and with
random drop 0.5; planning (4 seen, 12 hidden, 4 seen) smoothing at most 0.45 x the
baseline; random drop 0.5 smoothing at most 0.25 x the baseline. The box model has a
stricter bar of its own (test_default_model.py). A model below its bar fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kvae_studio.services.resources import shipped_evaluation, shipped_models
from model.checkpoint import load_model
from model.data import load_sequences
from model.evaluation import evaluate
from model.model_file import read_summary

DATA = Path(__file__).resolve().parents[1] / "data"
SCENES = [scene for scene in shipped_models() if scene != "box"]
BARS = {"planning": 0.45, "random": 0.25}
KINDS = tuple(BARS)
# Bars a shipped model is known to miss (resources/models/README.md says by how much and
# what was tried): it is held to the ratio it reaches today, and the bar reports as xfail.
SHORTFALLS: dict[tuple[str, str], float] = {}


def original_file(scene: str) -> Path:
    return DATA / f"original-{scene.replace('_', '-')}.npz"


@pytest.fixture(scope="module", params=SCENES)
def scored(request):
    scene = request.param
    model = load_model(shipped_models()[scene])
    images = load_sequences(original_file(scene)).images
    full = {kind: evaluate(model, images, kind, 0.5, 0, with_elbo=False) for kind in KINDS}
    scored_pixels = {kind: full[kind]["hidden_fraction"] * images.size for kind in KINDS}
    return scene, model, {kind: full[kind]["hamming"] for kind in KINDS}, scored_pixels


def test_the_model_knows_its_scene(scored):
    scene, _, _, _ = scored
    assert read_summary(shipped_models()[scene]).get("scene") == scene


@pytest.mark.parametrize("kind", ["planning", "random"])
def test_smoothing_meets_the_bar(scored, kind):
    scene, _, results, _ = scored
    h = results[kind]
    assert h["smoothing"] < h["filtering"], (scene, kind, h)
    ratio = h["smoothing"] / h["baseline"]
    shortfall = SHORTFALLS.get((scene, kind))
    if shortfall is not None:
        assert ratio > BARS[kind], f"{scene} now meets its {kind} bar: drop it from SHORTFALLS"
        assert ratio <= shortfall, (scene, kind, h)
        pytest.xfail(f"{scene}, {kind}: {ratio:.3f} x the baseline, bar {BARS[kind]}")
    assert ratio <= BARS[kind], (scene, kind, h)


def test_the_shipped_figures_are_the_models(scored):
    """The stored figure is the model's to a pixel or two: a Hamming distance counts the
    pixels that differ over the N*T*H*W hidden ones, and another CPU's float rounding
    may flip the binarised value of a pixel or two whose probability sits at 0.5; no
    smaller change of the figure is possible, and a relative tolerance means nothing to
    a count."""
    scene, _, results, scored_pixels = scored
    stored = json.loads(shipped_evaluation(scene).read_text())
    for kind, key in (("planning", "planning"), ("random", "random_0.5")):
        pixel = 1.0 / scored_pixels[kind]
        got, want = results[kind]["smoothing"], stored[key]["hamming"]["smoothing"]
        assert abs(got - want) <= 2 * pixel, (scene, kind, got, want)
