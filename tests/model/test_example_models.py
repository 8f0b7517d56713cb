"""The shipped example models load whole and are what they say they are: box-mlp-alpha
has the original's non-recurrent dynamics network, so its alpha map is the network on
the grid (no sequence, no step), as the original's img_alpha_nn drew it."""

from __future__ import annotations

import numpy as np
import torch

from kvae_studio.services import dynamics_run
from kvae_studio.services.model_card import model_scene
from kvae_studio.services.model_names import display_name
from kvae_studio.services.resources import EXAMPLE_MODELS, is_shipped, shipped_examples
from model.checkpoint import load_model
from model.model_file import read_summary


def test_every_example_is_installed_loads_and_is_named():
    examples = shipped_examples()
    assert sorted(examples) == sorted(EXAMPLE_MODELS)
    for stem, path in examples.items():
        load_model(path)
        assert is_shipped(path)
        assert display_name(path) == EXAMPLE_MODELS[stem]


def test_the_mlp_alpha_box_model_draws_its_network_on_the_grid():
    path = shipped_examples()["box-mlp-alpha"]
    model = load_model(path).eval()
    assert not model.config.alpha_rnn and model.config.fifo_size == 1
    assert model_scene(read_summary(path)) == "box"
    history = np.zeros((20, model.config.dim_a), np.float32)
    amap = dynamics_run.alpha_map(model, (-10.0, 10.0, -10.0, 10.0), 8, history, 3, 5)
    assert amap.sequence is None and amap.step is None  # no state: no step to choose
    point = torch.tensor([[float(amap.xs[2]), float(amap.ys[5])]])
    with torch.no_grad():
        direct = torch.softmax(model.alpha_net.alpha_head(model.alpha_net.mlp(point)), -1)[0]
    np.testing.assert_allclose(amap.alpha[:, 5, 2], direct.numpy(), atol=1e-6)
