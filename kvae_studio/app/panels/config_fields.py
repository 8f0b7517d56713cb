"""How the Train panel presents each `KVAEConfig` field: group, tooltip, range.

The texts restate kvae-model.md (sections 1-8), so a user can read in the form what a
setting does and what the paper used without opening the design notes. Fields missing
here still appear (group "Other"): the form is generated from the dataclass. The spin
boxes' ranges are `model.config.FIELD_RANGES`, the ones the config itself enforces.
"""

from __future__ import annotations

import dataclasses

from kvae_studio.app.panels.forms import FieldHint
from model.config import FIELD_RANGES, KVAEConfig

SIZES = "Sizes"
SSM = "State space model"
ALPHA = "Dynamics network (alpha)"
VAE = "Encoder and decoder"
OBJECTIVE = "Objective"
SCHEDULE = "Training schedule"
MASKS = "Imputation masks"

GROUP_ORDER = (SCHEDULE, SIZES, SSM, ALPHA, VAE, OBJECTIVE, MASKS)
COLLAPSED = (SSM, ALPHA, VAE, OBJECTIVE, MASKS)

_H = FieldHint

CONFIG_HINTS: dict[str, FieldHint] = {
    # Schedule first: what users change most.
    "batch_size": _H(SCHEDULE, "sequences per optimiser step", minimum=1),
    "num_epochs": _H(SCHEDULE, "passes over the training set", minimum=1),
    "init_lr": _H(SCHEDULE, "Adam's initial learning rate"),
    "decay_rate": _H(SCHEDULE, "learning rate multiplier applied every decay_epochs (staircase)"),
    "decay_epochs": _H(SCHEDULE, "epochs between two learning rate decays", minimum=1),
    "max_grad_norm": _H(SCHEDULE, "gradients are clipped to this global norm"),
    "only_vae_epochs": _H(SCHEDULE, "first epochs update the VAE alone"),
    "kf_update_steps": _H(
        SCHEDULE, "then epochs that update the VAE and A, B, C, a_0 but not the alpha network"
    ),
    "train_miss_prob": _H(SCHEDULE, "fraction of frames dropped at random while training"),
    "t_init_train_miss": _H(SCHEDULE, "frames always observed at the start when dropping"),
    "optimizer_per_phase": _H(
        SCHEDULE, "a fresh Adam (new moments) when the phase changes, as the original"
    ),
    # Sizes.
    "frame_size": _H(SIZES, "frame width and height; follows the training set", minimum=8),
    "dim_a": _H(SIZES, "size of the VAE's code a_t (where the object is)", minimum=1),
    "dim_z": _H(SIZES, "size of the LGSSM state z_t (position and velocity)", minimum=1),
    "dim_u": _H(SIZES, "size of the control input u_t (zeros in the paper)"),
    "K": _H(SIZES, "number of linear regimes mixed by alpha; 1 = a plain LGSSM", minimum=1),
    # State space model.
    "init_cov": _H(SSM, "prior covariance of z_1 is init_cov * I"),
    "noise_transition": _H(SSM, "transition noise Q = noise_transition * I (fixed)"),
    "noise_emission": _H(SSM, "emission noise R = noise_emission * I (fixed)"),
    "init_kf_matrices": _H(SSM, "B and C start as this times standard normal noise"),
    # Dynamics parameter network.
    "alpha_rnn": _H(ALPHA, "an LSTM (on) or an MLP over the last fifo_size codes (off)"),
    "alpha_units": _H(ALPHA, "hidden units of the alpha network", minimum=1),
    "alpha_layers": _H(ALPHA, "MLP layers (when alpha_rnn is off)", minimum=1),
    "alpha_activation": _H(
        ALPHA, "MLP activation (when alpha_rnn is off)", choices=("relu", "tanh", "elu", "sigmoid")
    ),
    "fifo_size": _H(ALPHA, "codes a_{t-1}, a_{t-2}, ... fed to the MLP", minimum=1),
    "learn_u": _H(ALPHA, "the alpha network also outputs the control u_t"),
    # Encoder and decoder.
    "conv": _H(VAE, "convolutional (on) or MLP (off) encoder and decoder"),
    "filters": _H(VAE, "filters of the stride-2 conv layers, e.g. 32, 32, 32"),
    "kernel_size": _H(VAE, "convolution kernel size", minimum=1),
    "num_layers": _H(VAE, "MLP encoder/decoder layers (when conv is off)", minimum=1),
    "vae_num_units": _H(VAE, "MLP encoder/decoder units (when conv is off)", minimum=1),
    "use_vae": _H(VAE, "learn the VAE; off feeds the frames' codes directly"),
    "output": _H(VAE, "pixel likelihood p(x_t | a_t)", choices=("bernoulli", "gaussian")),
    "noise_pixel_var": _H(VAE, "fixed pixel variance of the Gaussian decoder"),
    "activation": _H(
        VAE, "activation of the hidden layers", choices=("relu", "tanh", "elu", "sigmoid")
    ),
    "decoder_dense_activation": _H(
        VAE,
        "after the decoder's first dense layer: none in the original",
        choices=("none", "relu", "tanh", "elu", "sigmoid"),
    ),
    "init": _H(
        VAE,
        "xavier: the original's Xavier weights, zero biases, LSTM forget bias 1; "
        "torch: PyTorch's defaults",
        choices=("xavier", "torch"),
    ),
    # Objective.
    "scale_reconstruction": _H(
        OBJECTIVE, "weight of log p(x|a) in the training ELBO (1.0 when reporting)"
    ),
    "ll_clip": _H(OBJECTIVE, "Bernoulli probabilities clipped to [ll_clip, 1 - ll_clip]"),
    "ll_keep_prob": _H(OBJECTIVE, "keep probability of a dropout on each frame's log p(x|a)"),
    "sample_z": _H(OBJECTIVE, "log p(x|a) of the decoded smoothed codes C mu instead of a"),
    # Masks.
    "t_init_mask": _H(MASKS, "frames always observed at the start of an imputation mask"),
    "t_steps_mask": _H(MASKS, "frames hidden by the planning mask after those"),
}


def config_hint(name: str) -> FieldHint:
    """The field's hint; a whole-number field's spin box spans the config's own range."""
    hint = CONFIG_HINTS.get(name, FieldHint("Other"))
    span = FIELD_RANGES.get(name)
    if span is not None and type(_DEFAULTS.get(name)) is int:
        low = int(span.low) + (1 if span.open_low else 0)
        hint = dataclasses.replace(hint, minimum=low, maximum=int(span.high))
    return hint


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(KVAEConfig)}
