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
from model.config_help import CONFIG_HELP, CONFIG_LABELS

SIZES = "Sizes"
SSM = "State space model"
ALPHA = "Dynamics network (alpha)"
VAE = "Encoder and decoder"
OBJECTIVE = "Objective"
SCHEDULE = "Training schedule"
MASKS = "Imputation masks"

GROUP_ORDER = (SCHEDULE, SIZES, SSM, ALPHA, VAE, OBJECTIVE, MASKS)
COLLAPSED = (SSM, ALPHA, VAE, OBJECTIVE, MASKS)


_ACTIVATIONS = ("relu", "tanh", "elu", "sigmoid")
_GROUPS = {  # the form's sections, schedule first: what users change most
    SCHEDULE: ("batch_size", "num_epochs", "init_lr", "decay_rate", "decay_epochs",
               "max_grad_norm", "only_vae_epochs", "kf_update_steps", "train_miss_prob",
               "t_init_train_miss", "optimizer_per_phase"),
    SIZES: ("frame_size", "dim_a", "dim_z", "dim_u", "K"),
    SSM: ("init_cov", "noise_transition", "noise_emission", "init_kf_matrices"),
    ALPHA: ("alpha_rnn", "alpha_units", "alpha_layers", "alpha_activation", "fifo_size",
            "learn_u"),
    VAE: ("conv", "filters", "kernel_size", "num_layers", "vae_num_units", "use_vae", "output",
          "noise_pixel_var", "activation", "decoder_dense_activation", "init"),
    OBJECTIVE: ("scale_reconstruction", "ll_clip", "ll_keep_prob", "sample_z"),
    MASKS: ("t_init_mask", "t_steps_mask"),
}  # fmt: skip
_CHOICES = {
    "alpha_activation": _ACTIVATIONS,
    "output": ("bernoulli", "gaussian"),
    "activation": _ACTIVATIONS,
    "decoder_dense_activation": ("none", *_ACTIVATIONS),
    "init": ("xavier", "torch"),
}
CONFIG_HINTS: dict[str, FieldHint] = {
    name: FieldHint(
        group, CONFIG_HELP[name], choices=_CHOICES.get(name, ()), label=CONFIG_LABELS.get(name)
    )
    for group, names in _GROUPS.items()
    for name in names
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
