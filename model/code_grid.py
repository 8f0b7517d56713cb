"""The decoder tabulated on a grid of codes: a global first guess for a partly hidden frame.

The visible pixels' likelihood of a small object is multimodal in its code a_t, and
Newton steps from a local guess can end in the wrong mode or take many steps. When a_t
is low-dimensional (the paper's dim_a = 2) the decoder can be tabulated once per model
on a fixed grid; the objective at every node, for every partly hidden frame, is then a
matrix product, and a quadratic fitted to the best node's neighbours places the guess
between nodes. Newton steps from there (model.occlusion) converge in about three
decoder evaluations per frame, where plain Gauss-Newton steps from local guesses took 14
and did not converge.

The grid is a fixed function of the model (its range does not depend on any request),
so an answer never depends on what was asked before or on which other frames were
asked with it.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

HALF_WIDTH = 24.0  # the grid's range on every axis; the shipped models' codes lie within +-16
NODES = {1: 512, 2: 64, 3: 16}  # nodes per axis by dim_a: at most 4096 decoded frames per model
TABLE_BUDGET = 4096 * 1024  # nodes x pixels at most (32 MB with the softplus half): larger
# frames get fewer nodes (64 x 64 frames: 32 per axis) rather than a table of 128 MB
COARSE_CANDIDATES = 3  # coarse nodes whose surroundings are searched at full resolution
_CHUNK = 8  # codes decoded at a time while building: a request waits at most that (2 ms)

_grids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CodeGrid:
    """Codes (G, da) on a regular grid and the decoder's tables over them (G, P)."""

    key: tuple
    nodes: int  # per axis
    spacing: float
    codes: Tensor
    table: Tensor  # (G, 2P): logits and softplus(logits) (Bernoulli), or means and squares
    coarse: Tensor  # (G', ) every other node on each axis: where the search looks first
    coarse_table: Tensor  # table[coarse], contiguous

    @property
    def strides(self) -> Tensor:
        return _strides(self.nodes, self.codes.shape[1]).to(self.codes.device)

    def covers(self, codes: Tensor) -> Tensor:
        """Whether each code (N, da) lies inside the grid's range, (N,)."""
        return (codes.abs() <= HALF_WIDTH).all(-1)


def code_grid(model, stop: Callable[[], bool] | None = None) -> CodeGrid | None:
    """The model's grid, built on first use and rebuilt if its decoder changes; None
    when dim_a is too large for a table (more than 3), or when `stop()` turned true
    before it was complete. Building takes about a second for a 32 x 32 model on one
    core, so a model's process builds it while idle (with `stop` = "a request came"),
    and what it built so far is kept for the next call."""
    da = model.config.dim_a
    if da not in NODES:
        return None
    tensors = [*model.decoder.parameters(), *model.decoder.buffers()]
    versions = ((t.data_ptr(), t._version) for t in tensors)
    key = (model.R.device, model.R.dtype, id(model.decoder), *versions)
    grid = _grids.get(model)
    if isinstance(grid, CodeGrid) and grid.key == key:
        return grid
    if grid is None or grid.key != key:
        grid = _Building(key, _nodes(model, _nodes_per_axis(model)), [])
        _grids[model] = grid
    # a plain tensor even when called under inference mode, so that callers outside it
    # (with autograd on) may multiply with the tables
    with torch.inference_mode(False), torch.no_grad():
        while len(grid.done) * _CHUNK < len(grid.codes):
            if stop is not None and stop():
                return None
            chunk = grid.codes[len(grid.done) * _CHUNK :][:_CHUNK]
            grid.done.append(model.decoder(chunk).flatten(1))
        first = torch.cat(grid.done)
        if model.config.output == "bernoulli":
            second = torch.nn.functional.softplus(first)
        else:
            second = first.square()
        table = torch.cat([first, second], 1)
        # softplus of the background's logits is often denormal, which slows every
        # product with the table by half; such terms are far below what the search sees
        table = torch.where(table.abs() < 1e-30, 0.0, table)
    nodes = _nodes_per_axis(model)
    even = torch.arange(0, nodes, 2, device=table.device)
    coarse = (torch.cartesian_prod(*([even] * da)).reshape(-1, da) * _strides(nodes, da)).sum(-1)
    spacing = 2 * HALF_WIDTH / (nodes - 1)
    built = CodeGrid(key, nodes, spacing, grid.codes, table, coarse, table[coarse].contiguous())
    _grids[model] = built
    return built


def _nodes_per_axis(model) -> int:
    da, pixels = model.config.dim_a, model.config.frame_size**2
    return max(3, min(NODES[da], int((TABLE_BUDGET / pixels) ** (1 / da) + 1e-9)))


@dataclass
class _Building:
    key: tuple
    codes: Tensor
    done: list[Tensor]


def _nodes(model, nodes: int) -> Tensor:
    da = model.config.dim_a
    with torch.inference_mode(False):
        axis = torch.linspace(
            -HALF_WIDTH, HALF_WIDTH, nodes, device=model.R.device, dtype=model.R.dtype
        )
        return torch.cartesian_prod(*([axis] * da)).reshape(-1, da)


def grid_start(
    model, grid: CodeGrid, x: Tensor, vis: Tensor, prior_mean: Tensor, precision: Tensor
) -> Tensor:
    """The best code on the grid for each frame, refined between nodes, (N, da).

    x, vis (N, P) flattened frames and visible pixels; prior_mean (N, da); precision
    (N, da, da). The objective is the one the Newton steps maximise: the visible pixels'
    log-likelihood minus half the prior's Mahalanobis distance. The search reads every
    other node first (a quarter of the table: the product is bound by memory), then
    the nodes next to the COARSE_CANDIDATES best coarse ones (every node is next to a
    coarse one), then fits the best node's neighbours.
    """
    weights = _pixel_weights(model, x, vis)
    objective = (grid.coarse_table @ weights.T).T + _prior_term(
        grid, grid.coarse, prior_mean, precision
    )
    top = objective.topk(min(COARSE_CANDIDATES, objective.shape[1]), dim=-1).indices
    near = _around(grid, grid.coarse[top], 1)  # (N, candidates * 3^da): every node is near one
    best = near.gather(
        1, _objective_at(grid, near, weights, prior_mean, precision).argmax(-1, keepdim=True)
    )
    around = _around(grid, best, 1)  # (N, 3^da), the best in the middle
    values = _objective_at(grid, around, weights, prior_mean, precision)
    inside = (_positions(grid, best.squeeze(1)) % (grid.nodes - 1) != 0).all(-1)
    return grid.codes[best.squeeze(1)] + grid.spacing * _refine(values, inside)


def _pixel_weights(model, x: Tensor, vis: Tensor) -> Tensor:
    """(N, 2P) weights w such that table @ w = log p(x_visible | a) up to a constant."""
    if model.config.output == "bernoulli":  # x log s(l) + (1 - x) log s(-l) = x l - softplus(l)
        return torch.cat([x * vis, -vis], 1)
    return torch.cat([x * vis, -0.5 * vis], 1) / model.config.noise_pixel_var


def _prior_term(grid: CodeGrid, nodes: Tensor, mean: Tensor, precision: Tensor) -> Tensor:
    """-(a - m)' P (a - m) / 2 at the given nodes, (N, G) for nodes (G,) or (N, G)."""
    codes = grid.codes[nodes]
    diff = (codes if codes.dim() == 3 else codes.unsqueeze(0)) - mean.unsqueeze(1)
    return -0.5 * ((diff @ precision) * diff).sum(-1)


def _objective_at(grid: CodeGrid, nodes: Tensor, weights: Tensor, mean, precision) -> Tensor:
    """The objective at nodes (N, K) of each frame's own, (N, K)."""
    likelihood = (grid.table[nodes] @ weights.unsqueeze(-1)).squeeze(-1)
    return likelihood + _prior_term(grid, nodes, mean, precision)


def _positions(grid: CodeGrid, nodes: Tensor) -> Tensor:
    """Grid coordinates (..., da) of node indices (...)."""
    return (nodes.unsqueeze(-1) // grid.strides) % grid.nodes


def _around(grid: CodeGrid, nodes: Tensor, reach: int) -> Tensor:
    """Indices of every node within `reach` of each of `nodes` (N, K) on every axis,
    clamped to the grid, (N, K * (2 reach + 1)^da); the middle one is the node itself."""
    da = grid.codes.shape[1]
    steps = torch.arange(-reach, reach + 1, device=nodes.device)
    offsets = torch.cartesian_prod(*([steps] * da)).reshape(-1, da)  # (M, da)
    pos = _positions(grid, nodes).unsqueeze(-2) + offsets  # (N, K, M, da)
    pos = pos.clamp(0, grid.nodes - 1)
    return (pos * grid.strides).sum(-1).flatten(1)


def _strides(nodes: int, da: int) -> Tensor:
    return torch.tensor([nodes**k for k in reversed(range(da))])


@functools.cache
def _fit_matrix(da: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(1 + da + da(da+1)/2, 3^da): the least-squares fit of f(u) = c + g.u + u'Qu/2 to
    values at the 3^da offsets u of `_around`, as one product (a pseudo-inverse, computed
    once: it costs a tenth of a millisecond, more than the rest of the fit)."""
    with torch.inference_mode(False):
        u = torch.cartesian_prod(*([torch.arange(-1.0, 2.0, dtype=dtype)] * da))
        u = u.reshape(-1, da)
        pairs = [(i, j) for i in range(da) for j in range(i, da)]
        design = torch.cat(
            [torch.ones(len(u), 1, dtype=u.dtype), u]
            + [(u[:, i] * u[:, j]).unsqueeze(1) for i, j in pairs],
            1,
        )
        return torch.linalg.pinv(design.to(device))


def _refine(values: Tensor, inside: Tensor) -> Tensor:
    """Offsets from the middle node, in units of the spacing (N, da), of the maximum of a
    quadratic fitted to the objective `values` (N, 3^da) on the node and its neighbours
    (in `_around`'s order); zero where the node is on the grid's edge (`inside` false)
    or the fit has no maximum."""
    n = values.shape[0]
    da = round(math.log(values.shape[1], 3))
    pairs = [(i, j) for i in range(da) for j in range(i, da)]
    coef = values @ _fit_matrix(da, values.dtype, values.device).T  # (N, 1 + da + len(pairs))
    g = coef[:, 1 : 1 + da]
    hess = torch.zeros(n, da, da, dtype=values.dtype, device=values.device)
    for k, (i, j) in enumerate(pairs):
        c = coef[:, 1 + da + k]
        if i == j:
            hess[:, i, i] = 2 * c
        else:
            hess[:, i, j] = hess[:, j, i] = c
    concave = torch.linalg.eigvalsh(hess).amax(-1) < 0
    eye = torch.eye(da, dtype=values.dtype, device=values.device)
    safe = torch.where(concave[:, None, None], hess, -eye)
    step = -torch.linalg.solve(safe, g.unsqueeze(-1)).squeeze(-1)
    step = step.clamp(-1.0, 1.0)
    return torch.where((inside & concave).unsqueeze(1), step, torch.zeros_like(step))
