"""What each `KVAEConfig` option does, in one line: the help of `train --NAME` and the
tooltip of the Train panel's form, written once for both (kvae-model.md sections 1-8).
"""

from __future__ import annotations

CONFIG_HELP: dict[str, str] = {
    "frame_size": "frame width and height; follows the training set",
    "dim_a": "size of the VAE's code a_t (where the object is)",
    "dim_z": "size of the LGSSM state z_t (position and velocity)",
    "dim_u": "size of the control input u_t (zeros in the paper)",
    "K": "number of linear regimes mixed by alpha; 1 = a plain LGSSM",
    "init_cov": "prior covariance of z_1 is init_cov * I",
    "noise_transition": "transition noise Q = noise_transition * I (fixed)",
    "noise_emission": "emission noise R = noise_emission * I (fixed)",
    "init_kf_matrices": "B and C start as this times standard normal noise",
    "alpha_rnn": "an LSTM (on) or an MLP over the last fifo_size codes (off)",
    "alpha_units": "hidden units of the alpha network",
    "alpha_layers": "MLP layers (when alpha_rnn is off)",
    "alpha_activation": "MLP activation (when alpha_rnn is off)",
    "fifo_size": "codes a_{t-1}, a_{t-2}, ... fed to the MLP",
    "learn_u": "the alpha network also outputs the control u_t",
    "conv": "convolutional (on) or MLP (off) encoder and decoder",
    "filters": "filters of the stride-2 conv layers, e.g. 32, 32, 32",
    "kernel_size": "convolution kernel size",
    "num_layers": "MLP encoder/decoder layers (when conv is off)",
    "vae_num_units": "MLP encoder/decoder units (when conv is off)",
    "use_vae": "learn the VAE; off feeds the frames' codes directly",
    "output": "pixel likelihood p(x_t | a_t)",
    "noise_pixel_var": "fixed pixel variance of the Gaussian decoder",
    "activation": "activation of the hidden layers",
    "decoder_dense_activation": "after the decoder's first dense layer: none in the original",
    "init": (
        "xavier: the original's Xavier weights, zero biases, LSTM forget bias 1; "
        "torch: PyTorch's defaults"
    ),
    "scale_reconstruction": "weight of log p(x|a) in the training ELBO (1.0 when reporting)",
    "ll_clip": "Bernoulli probabilities clipped to [ll_clip, 1 - ll_clip]",
    "ll_keep_prob": "keep probability of a dropout on each frame's log p(x|a)",
    "sample_z": "log p(x|a) of the decoded smoothed codes C mu instead of a",
    "batch_size": "sequences per optimiser step",
    "num_epochs": "passes over the training set",
    "init_lr": "Adam's initial learning rate",
    "decay_rate": "learning rate multiplier applied every decay_epochs (staircase)",
    "decay_epochs": "epochs between two learning rate decays",
    "max_grad_norm": "gradients are clipped to this global norm",
    "optimizer_per_phase": "a fresh Adam (new moments) when the phase changes, as the original",
    "only_vae_epochs": "first epochs update the VAE alone",
    "kf_update_steps": "then epochs that update the VAE and A, B, C, a_0 but not the alpha network",
    "train_miss_prob": "fraction of frames dropped at random while training",
    "t_init_train_miss": "frames always observed at the start when dropping",
    "t_init_mask": "frames always observed at the start of an imputation mask",
    "t_steps_mask": "frames hidden by the planning mask after those",
}
