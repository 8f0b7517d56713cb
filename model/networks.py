"""The KVAE's neural parts: recognition q(a|x), decoder p(x|a), dynamics parameter network.

Shapes follow kvae-model.md, sections 3 and 4. Frames enter as (N, H, W) and leave
as logits or means (N, H, W); codes are (N, dim_a).
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model.config import KVAEConfig

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "sigmoid": nn.Sigmoid}


def _float32(t: Tensor) -> contextlib.AbstractContextManager:
    """Autocast off around the layers that make or read the codes.

    A bf16 run (model.precision) keeps its convolutions, where the time goes, in bf16;
    but a code in bf16 has 8 bits of mantissa (steps of 0.03 at a = 5), and so would the
    decoder's reading of it: the encoder's heads and the decoder's first dense layer run
    in float32. (The decoder's 1x1 head stays bf16: in float32 it cost a quarter more time
    per step, the cast of its input map back and forth.)
    """
    return torch.autocast(t.device.type, enabled=False)


def _upcast(t: Tensor) -> Tensor:
    """A bf16 (or fp16) tensor in float32; float32 and float64 as they are."""
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


class Encoder(nn.Module):
    """q(a_t | x_t) = N(mean, diag(var)), var = noise_emission * sigmoid(.) as in the release."""

    def __init__(self, config: KVAEConfig):
        super().__init__()
        self.config = config
        if config.conv:
            self.features, width = _conv_features(config)
        else:
            hidden, width = _dense_layers(config.frame_size**2, config)
            self.features = nn.Sequential(nn.Flatten(), *hidden)
        self.mean = nn.Linear(width, config.dim_a)
        self.var = nn.Linear(width, config.dim_a)

    def forward(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(_as_images(frames, self.config.conv))
        with _float32(h):
            h = _upcast(h)
            return self.mean(h), self.config.noise_emission * torch.sigmoid(self.var(h))


def _conv_features(config: KVAEConfig) -> tuple[nn.Sequential, int]:
    """The encoder's stride-2 convolutions, flattened: (layers, output width)."""
    act = _ACTIVATIONS[config.activation]
    size = config.frame_size
    layers: list[nn.Module] = []
    channels = 1
    for filters in config.filters:
        pad = config.kernel_size // 2
        layers += [nn.Conv2d(channels, filters, config.kernel_size, 2, pad), act()]
        channels = filters
        size //= 2
    return nn.Sequential(*layers, nn.Flatten()), channels * size * size


def _dense_layers(width: int, config: KVAEConfig) -> tuple[list[nn.Module], int]:
    """The VAE's hidden dense layers (num_layers of vae_num_units) on `width` inputs:
    (layers, output width). The encoder and the decoder without convolutions use them."""
    act = _ACTIVATIONS[config.activation]
    layers: list[nn.Module] = []
    for _ in range(config.num_layers):
        layers += [nn.Linear(width, config.vae_num_units), act()]
        width = config.vae_num_units
    return layers, width


class Decoder(nn.Module):
    """p(x_t | a_t): dense to the last feature map, then conv + depth-to-space per level."""

    def __init__(self, config: KVAEConfig):
        super().__init__()
        self.config = config
        size = config.frame_size
        act = _ACTIVATIONS[config.activation]
        if config.conv:
            self.base = size // 2 ** len(config.filters)
            self.channels = config.filters[-1]
            dense_act = config.decoder_dense_activation
            self.dense = nn.Sequential(
                nn.Linear(config.dim_a, self.base * self.base * self.channels),
                nn.Identity() if dense_act == "none" else _ACTIVATIONS[dense_act](),
            )
            layers: list[nn.Module] = []
            channels = self.channels
            pad = config.kernel_size // 2
            for filters in reversed(config.filters):
                layers += [
                    nn.Conv2d(channels, 4 * filters, config.kernel_size, 1, pad),
                    act(),
                    nn.PixelShuffle(2),
                ]
                channels = filters
            layers.append(nn.Conv2d(channels, 1, 1))
            self.body = nn.Sequential(*layers)
        else:
            hidden, width = _dense_layers(config.dim_a, config)
            self.body = nn.Sequential(*hidden, nn.Linear(width, size * size))

    def forward(self, a: Tensor) -> Tensor:
        """Logits (Bernoulli) or means (Gaussian), shape (N, H, W)."""
        size = self.config.frame_size
        if self.config.conv:
            with _float32(a):
                h = self.dense(a).view(-1, self.channels, self.base, self.base)
            try:
                h = h.contiguous(memory_format=torch.channels_last)
            except RuntimeError:  # under torch.func.vmap, which has no channels-last
                return self.body(h).view(-1, size, size)
            return self._upsample(h)
        with _float32(a):
            h = self.body[0](a)  # the first dense layer reads the code
        return self.body[1:](h).view(-1, size, size)

    @torch.no_grad()
    def forward_with_jacobian(self, a: Tensor) -> tuple[Tensor, Tensor]:
        """Outputs (N, H, W) and their derivatives along each axis of a, (da, N, H, W).

        Forward-mode differentiation by hand, for the Laplace steps of partly hidden
        frames: the codes and the da unit tangents go through the layers as one
        stacked batch of (1 + da) N rows. Linear maps act on tangents without their
        bias, and each activation scales a tangent by its derivative at the value.
        """
        n, da = a.shape
        size = self.config.frame_size
        act = self.config.activation
        basis = torch.eye(da, dtype=a.dtype, device=a.device).repeat_interleave(n, 0)
        x = torch.cat([a, basis], 0)  # row k * n + i (k >= 1): the tangent e_k of code i
        if self.config.conv:
            x = _linear_act_jvp(x, self.dense[0], n, self.config.decoder_dense_activation)
            x = x.view(-1, self.channels, self.base, self.base)
            x = self._upsample(x.contiguous(memory_format=torch.channels_last), n)
        else:
            layers = list(self.body)
            for linear in layers[:-1:2]:
                x = _linear_act_jvp(x, linear, n, act)
            x = F.linear(x, layers[-1].weight)
            x[:n] += layers[-1].bias
        out = x.reshape(1 + da, n, size, size)
        return out[0], out[1:]

    def _upsample(self, h: Tensor, values: int | None = None) -> Tensor:
        """`self.body` on the dense layer's map (channels-last), computed in less time.

        The same maths as running the Sequential, arranged for speed: channels-last
        tensors (the layout the CPU convolution kernels prefer; torch's pixel_shuffle
        keeps it, and its backward is a quarter of the time of a shuffle spelt as
        permute and reshape), and the final 1x1 convolution applied before the last
        depth-to-space (it acts on each sub-pixel alone, so the two commute), so that the
        largest map is never shuffled.

        With `values` = n, rows n and on are tangents (see forward_with_jacobian).
        """
        layers = list(self.body)
        act = self.config.activation
        groups = [layers[i : i + 3] for i in range(0, len(layers) - 1, 3)]
        for index, (conv, _act, shuffle) in enumerate(groups):
            # (the activation in place: no second map to allocate and fill)
            h = (
                _ACTIVATE_IN_PLACE[act](conv(h))
                if values is None
                else _conv_act_jvp(h, conv, values, act)
            )
            if index + 1 < len(groups):
                h = F.pixel_shuffle(h, shuffle.upscale_factor)
        head = layers[-1]
        r = groups[-1][2].upscale_factor
        n, channels, height, width = h.shape
        # The 1x1 head (one output, weight w_c) on sub-pixel k reads channels c * r*r + k:
        # a 1x1 convolution with r*r outputs, output k weighting channel c * r*r + k by w_c.
        eye = torch.eye(r * r, dtype=h.dtype, device=h.device)
        weight = (eye[:, None, :] * head.weight.view(1, -1, 1)).reshape(r * r, channels, 1, 1)
        if values is None:
            y = F.conv2d(h, weight, head.bias.expand(r * r))  # (N, r*r, H, W), channels-last
        else:
            y = F.conv2d(h, weight)
            y[:values] += head.bias
        return F.pixel_shuffle(y, r).reshape(n, height * r, width * r)


def _linear_act_jvp(x: Tensor, linear: nn.Linear, values: int, act: str) -> Tensor:
    """act(linear(.)) on rows [:values] and its tangent map on the rows after them."""
    y = F.linear(x, linear.weight)
    return _bias_act_jvp(y, linear.bias, values, act)


def _conv_act_jvp(x: Tensor, conv: nn.Conv2d, values: int, act: str) -> Tensor:
    y = F.conv2d(x, conv.weight, None, conv.stride, conv.padding)
    return _bias_act_jvp(y, conv.bias.view(-1, 1, 1), values, act)


def _bias_act_jvp(y: Tensor, bias: Tensor, values: int, act: str) -> Tensor:
    """In place: add the bias to the values and activate; scale the tangents to match."""
    v = y[:values]
    v += bias
    if act == "none":
        return y
    _ACTIVATE_IN_PLACE[act](v)
    tangents = y[values:].view(-1, *v.shape)
    if act == "relu":
        # ReLU's derivative: 1 where the value is positive, else 0 (also at 0, as in
        # autograd); sign() of the result gives it as floats, faster than a boolean mask.
        tangents.mul_(v.sign())
    else:
        tangents.mul_(_DERIVATIVE_FROM_OUTPUT[act](v))
    return y


# In-place activations, and each one's derivative written in terms of its output.
_ACTIVATE_IN_PLACE = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "sigmoid": torch.sigmoid_,
    "elu": F.elu_,
}
_DERIVATIVE_FROM_OUTPUT = {
    "tanh": lambda out: 1 - out.square(),
    "sigmoid": lambda out: out * (1 - out),
    "elu": lambda out: torch.where(out > 0, torch.ones_like(out), out + 1),
}


def _softmax(logits: Tensor) -> Tensor:
    """softmax over the last axis, spelt out. torch.softmax opens an OpenMP parallel
    region even for a (1, 20, 3) tensor; when another process keeps the second core
    busy, waiting for that region's thread cost ~9 ms a call instead of microseconds."""
    e = (logits - logits.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


def _as_images(frames: Tensor, conv: bool) -> Tensor:
    return frames.unsqueeze(1) if conv else frames


class AlphaNetwork(nn.Module):
    """alpha_t = softmax(f(a_0, ..., a_{t-1})): an LSTM, or an MLP over a FIFO of codes.

    With learn_u the LSTM is twice as wide and its second half feeds a head for u_t.
    `sequence` runs every step in one call when all inputs are known in advance;
    `step` runs one step for the filter when an input must be predicted first.
    """

    def __init__(self, config: KVAEConfig):
        super().__init__()
        self.config = config
        units = config.alpha_units
        width = 2 * units if config.learn_u else units
        if config.alpha_rnn:
            self.lstm = nn.LSTM(config.dim_a, width, batch_first=True)
        else:
            act = _ACTIVATIONS[config.alpha_activation]
            layers: list[nn.Module] = []
            inp = config.dim_a * config.fifo_size
            for _ in range(config.alpha_layers):
                layers += [nn.Linear(inp, width), act()]
                inp = width
            self.mlp = nn.Sequential(*layers)
        self.alpha_head = nn.Linear(units, config.K)
        self.u_head = nn.Linear(units, config.dim_u) if config.learn_u else None

    def _heads(self, h: Tensor) -> tuple[Tensor, Tensor | None]:
        units = self.config.alpha_units
        alpha = _softmax(self.alpha_head(h[..., :units]))
        u = self.u_head(h[..., units:]) if self.u_head is not None else None
        return alpha, u

    def sequence(self, inputs: Tensor) -> tuple[Tensor, Tensor | None]:
        """inputs (B, T, da) = a_0, ..., a_{T-1} -> alpha (B, T, K), u (B, T, du) or None."""
        if self.config.alpha_rnn:
            h, _ = self.lstm(inputs)
        else:
            fifo = self.config.fifo_size
            padded = torch.cat([inputs[:, :1].expand(-1, fifo - 1, -1), inputs], 1)
            windows = padded.unfold(1, fifo, 1)  # (B, T, da, fifo), oldest first
            h = self.mlp(windows.transpose(-1, -2).flatten(-2))
        return self._heads(h)

    def run(self, inputs: Tensor) -> tuple[Tensor, Tensor | None, object]:
        """`sequence`, and also the state after the last input, for `step` to go on from."""
        if self.config.alpha_rnn:
            h, (h_n, c_n) = self.lstm(inputs)
            alpha, u = self._heads(h)
            return alpha, u, (h_n[0], c_n[0])
        alpha, u = self.sequence(inputs)
        fifo = self.config.fifo_size
        padded = torch.cat([inputs[:, :1].expand(-1, fifo - 1, -1), inputs], 1)
        return alpha, u, padded[:, -fifo:]

    def initial_state(self, first_input: Tensor) -> object:
        if self.config.alpha_rnn:
            return None
        return first_input.unsqueeze(1).expand(-1, self.config.fifo_size, -1)

    def step(self, inp: Tensor, state: object) -> tuple[Tensor, Tensor | None, object]:
        """One step: inp (B, da) -> alpha (B, K), u (B, du) or None, new state.

        The LSTM is stepped with its cell function on the module's own weights: the
        same maths as calling the module, at a fifth of the cost for one step.
        """
        if self.config.alpha_rnn:
            lstm = self.lstm
            if state is None:
                zeros = inp.new_zeros(inp.shape[0], lstm.hidden_size)
                state = (zeros, zeros)
            h, c = torch.lstm_cell(
                inp, state, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
            )
            state = (h, c)
        else:
            state = torch.cat([state[:, 1:], inp.unsqueeze(1)], 1)
            h = self.mlp(state.flatten(1))
        alpha, u = self._heads(h)
        return alpha, u, state


def initialise_as_original(module: nn.Module) -> None:
    """The release's initialisation: Xavier-uniform weights and zero biases (slim's
    defaults for its conv and dense layers), and for an LSTM the forget gate's bias at 1.

    TensorFlow's BasicLSTMCell keeps one kernel over [input, hidden] for the four gates,
    Xavier over that whole (in + hidden, 4 hidden) matrix, and adds forget_bias = 1.0 in
    its maths; here the two weight matrices share that kernel's bound and the forget
    slice of the bias starts at 1 (PyTorch orders the gates input, forget, cell, output).
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.LSTM):
            hidden, inputs = layer.hidden_size, layer.input_size
            bound = (6.0 / (inputs + hidden + 4 * hidden)) ** 0.5
            with torch.no_grad():
                for name, value in layer.named_parameters():
                    if name.startswith("weight"):
                        value.uniform_(-bound, bound)
                    else:
                        value.zero_()
                layer.bias_ih_l0[hidden : 2 * hidden] = 1.0
