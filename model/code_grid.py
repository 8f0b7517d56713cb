"""The decoder tabulated on a grid of codes: a global first guess for a partly hidden frame.

The visible pixels' likelihood of a small object is multimodal in its code a_t, and
Newton steps from a local guess can end in the wrong mode or take many steps. When a_t
is low-dimensional (the paper's dim_a = 2) the decoder can be tabulated once per model
on a fixed grid; the objective at every node, for every partly hidden frame, is then two
matrix products, and a quadratic fitted to the best node's neighbours places the guess
between nodes. Newton steps from there (model.occlusion) converge in one or two decoder
evaluations instead of six or more.

The grid is a fixed function of the model (its range does not depend on any request),
so an answer never depends on what was asked before or on which other frames were
asked with it.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

HALF_WIDTH = (
    24.0  # the grid spans [-24, 24] on every axis: the shipped models' codes lie within +-16
)
NODES = {1: 512, 2: 64, 3: 16}  # nodes per axis by dim_a: at most 4096 decoded frames per model
_CHUNK = 16  # codes decoded at once when building a table: a request waits for at most one piece (about 3 ms)

_grids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CodeGrid:
    """Codes (G, da) on a regular grid and the decoder's tables over them (G, P)."""

    key: tuple
    nodes: int  # per axis
    spacing: float
    codes: Tensor
    table: Tensor  # (G, 2P): logits and softplus(logits) (Bernoulli), or means and squares

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
        grid = _Building(key, _nodes(model, NODES[da]), [])
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
    built = CodeGrid(key, NODES[da], 2 * HALF_WIDTH / (NODES[da] - 1), grid.codes, table)
    _grids[model] = built
    return built


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
    log-likelihood minus half the prior's Mahalanobis distance.
    """
    objective = _likelihood_table(model, grid, x, vis)
    diff = grid.codes.unsqueeze(0) - prior_mean.unsqueeze(1)  # (N, G, da)
    objective = objective - 0.5 * torch.einsum("ngd,nde,nge->ng", diff, precision, diff)
    best = objective.argmax(-1)
    return grid.codes[best] + grid.spacing * _refine(
        objective, best, grid.nodes, grid.codes.shape[1]
    )


def _likelihood_table(model, grid: CodeGrid, x: Tensor, vis: Tensor) -> Tensor:
    """log p(x_visible | a) at every node, up to a constant per frame, (N, G): one
    product (G, 2P) @ (2P, N), the fast layout for a few frames."""
    if model.config.output == "bernoulli":  # x log s(l) + (1 - x) log s(-l) = x l - softplus(l)
        weights = torch.cat([x * vis, -vis], 1)
        return (grid.table @ weights.T).T
    weights = torch.cat([x * vis, -0.5 * vis], 1) / model.config.noise_pixel_var
    return (grid.table @ weights.T).T


def _refine(objective: Tensor, best: Tensor, nodes: int, da: int) -> Tensor:
    """Offsets from the best node, in units of the spacing (N, da), of the maximum of a
    quadratic fitted to the objective on the node and its 3^da neighbours; zero where
    the node is on the grid's edge or the fit has no maximum."""
    n = objective.shape[0]
    offsets = torch.tensor(list(itertools.product((-1, 0, 1), repeat=da)), device=best.device)
    strides = torch.tensor([nodes**k for k in reversed(range(da))], device=best.device)
    position = torch.stack([(best // s) % nodes for s in strides], -1)  # (N, da)
    inside = ((position > 0) & (position < nodes - 1)).all(-1)
    neighbours = (best.unsqueeze(1) + offsets @ strides).clamp(0, objective.shape[1] - 1)
    values = objective.gather(1, neighbours)  # (N, 3^da)
    # least squares for f(u) = c + g.u + u'Qu/2 over the 3^da offsets u
    u = offsets.to(objective.dtype)
    pairs = [(i, j) for i in range(da) for j in range(i, da)]
    design = torch.cat(
        [torch.ones(len(u), 1, dtype=u.dtype, device=u.device), u]
        + [(u[:, i] * u[:, j]).unsqueeze(1) for i, j in pairs],
        1,
    )
    coef = values @ torch.linalg.pinv(design).T  # (N, 1 + da + len(pairs))
    g = coef[:, 1 : 1 + da]
    hess = torch.zeros(n, da, da, dtype=u.dtype, device=u.device)
    for k, (i, j) in enumerate(pairs):
        c = coef[:, 1 + da + k]
        if i == j:
            hess[:, i, i] = 2 * c
        else:
            hess[:, i, j] = hess[:, j, i] = c
    concave = torch.linalg.eigvalsh(hess).amax(-1) < 0
    safe = torch.where(concave[:, None, None], hess, -torch.eye(da, dtype=u.dtype, device=u.device))
    step = -torch.linalg.solve(safe, g.unsqueeze(-1)).squeeze(-1)
    step = step.clamp(-1.0, 1.0)
    return torch.where((inside & concave).unsqueeze(1), step, torch.zeros_like(step))
