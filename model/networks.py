"""The KVAE's neural parts: recognition q(a|x), decoder p(x|a), dynamics parameter network.

Shapes follow kvae-model.md, sections 3 and 4. Frames enter as (N, H, W) and leave
as logits or means (N, H, W); codes are (N, dim_a).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.config import KVAEConfig

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "sigmoid": nn.Sigmoid}


class Encoder(nn.Module):
    """q(a_t | x_t) = N(mean, diag(var)), var = noise_emission * sigmoid(.) as in the release."""

    def __init__(self, config: KVAEConfig):
        super().__init__()
        self.config = config
        size = config.frame_size
        if config.conv:
            layers: list[nn.Module] = []
            channels = 1
            for filters in config.filters:
                pad = config.kernel_size // 2
                layers += [nn.Conv2d(channels, filters, config.kernel_size, 2, pad), nn.ReLU()]
                channels = filters
                size //= 2
            self.features = nn.Sequential(*layers, nn.Flatten())
            width = channels * size * size
        else:
            layers = [nn.Flatten()]
            width = size * size
            for _ in range(config.num_layers):
                layers += [nn.Linear(width, config.vae_num_units), nn.ReLU()]
                width = config.vae_num_units
            self.features = nn.Sequential(*layers)
        self.mean = nn.Linear(width, config.dim_a)
        self.var = nn.Linear(width, config.dim_a)

    def forward(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(_as_images(frames, self.config.conv))
        return self.mean(h), self.config.noise_emission * torch.sigmoid(self.var(h))


class Decoder(nn.Module):
    """p(x_t | a_t): dense to the last feature map, then conv + depth-to-space per level."""

    def __init__(self, config: KVAEConfig):
        super().__init__()
        self.config = config
        size = config.frame_size
        if config.conv:
            self.base = size // 2 ** len(config.filters)
            self.channels = config.filters[-1]
            self.dense = nn.Sequential(
                nn.Linear(config.dim_a, self.base * self.base * self.channels), nn.ReLU()
            )
            layers: list[nn.Module] = []
            channels = self.channels
            pad = config.kernel_size // 2
            for filters in reversed(config.filters):
                layers += [
                    nn.Conv2d(channels, 4 * filters, config.kernel_size, 1, pad),
                    nn.ReLU(),
                    nn.PixelShuffle(2),
                ]
                channels = filters
            layers.append(nn.Conv2d(channels, 1, 1))
            self.body = nn.Sequential(*layers)
        else:
            layers = []
            width = config.dim_a
            for _ in range(config.num_layers):
                layers += [nn.Linear(width, config.vae_num_units), nn.ReLU()]
                width = config.vae_num_units
            layers.append(nn.Linear(width, size * size))
            self.body = nn.Sequential(*layers)

    def forward(self, a: Tensor) -> Tensor:
        """Logits (Bernoulli) or means (Gaussian), shape (N, H, W)."""
        size = self.config.frame_size
        if self.config.conv:
            h = self.dense(a).view(-1, self.channels, self.base, self.base)
            return self.body(h).view(-1, size, size)
        return self.body(a).view(-1, size, size)


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
        alpha = torch.softmax(self.alpha_head(h[..., :units]), dim=-1)
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

    def initial_state(self, first_input: Tensor) -> object:
        if self.config.alpha_rnn:
            return None
        return first_input.unsqueeze(1).expand(-1, self.config.fifo_size, -1)

    def step(self, inp: Tensor, state: object) -> tuple[Tensor, Tensor | None, object]:
        """One step: inp (B, da) -> alpha (B, K), u (B, du) or None, new state."""
        if self.config.alpha_rnn:
            h, state = self.lstm(inp.unsqueeze(1), state)
            h = h.squeeze(1)
        else:
            state = torch.cat([state[:, 1:], inp.unsqueeze(1)], 1)
            h = self.mlp(state.flatten(1))
        alpha, u = self._heads(h)
        return alpha, u, state
