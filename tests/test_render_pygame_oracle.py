"""The numpy renderer against the original release's own drawing: pygame, through pymunk's
pygame drawing utilities (pymunk.pygame_util.DrawOptions), as kvae/datasets/box.py,
box_gravity.py, polygon.py and pong.py drew their frames.

The oracle builds the original's pymunk space for a physics state (its walls, paddles and
ball, in its order, colours and radii), draws it with `space.debug_draw` on a 24-bit pygame
Surface and reads it back as the original did (surfarray.array2d, rows first, over
2**24 - 1; pong's generator divided by 255 instead, a constant factor that binarisation,
pixel > 0, ignores). Our frames must equal it pixel for pixel, grey levels included, with
the rotation marker on (the release's drawing) over many random states of all four scenes.

pygame is a test extra only (pyproject.toml); set SDL_VIDEODRIVER=dummy as the release did.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pytest

pygame = pytest.importorskip("pygame", reason="pygame is the test extra of the oracle")
pygame_util = pytest.importorskip("pymunk.pygame_util")
import pymunk  # noqa: E402

from kvae_studio.sim.render import MARKER_VALUE, render_frames  # noqa: E402
from kvae_studio.sim.scenes import scene_params  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
RES = 32
DD = 2  # the box generators' wall inset
BOX_WALLS = [
    ((DD, DD), (DD, RES - DD)),
    ((DD, DD), (RES - DD, DD)),
    ((RES - DD, RES - DD), (DD, RES - DD)),
    ((RES - DD, RES - DD), (RES - DD, DD)),
]
HEXAGON = [(3, 1), (1, 15), (8, 30), (25, 30), (30, 8), (15, 1), (3, 1)]  # polygon.py, shape 2
POLYGON_WALLS = list(itertools.pairwise(HEXAGON))
PONG_WALLS = [((0, 1), (RES, 1)), ((0, RES), (RES, RES))]  # floor and roof (add_walls)
WALLS = {"box": BOX_WALLS, "box_gravity": BOX_WALLS, "polygon": POLYGON_WALLS, "pong": PONG_WALLS}


@pytest.fixture(scope="module")
def screen():
    pygame.init()
    pygame.display.set_mode((RES, RES), 0, 24)  # as the generators did under the dummy driver
    yield pygame.Surface((RES, RES), pygame.SRCCOLORKEY, 24)
    pygame.quit()


def original_frame(screen, scene: str, ball: tuple[float, float], paddles=None) -> np.ndarray:
    """One frame as the release drew it: walls, then the ball (radius 3), then pong's paddles
    (segments of radius 1 at x = 0 and x = res - 2, 3 above and below their centre)."""
    white = pygame.color.THECOLORS["white"]
    screen.fill(pygame.color.THECOLORS["black"])
    space = pymunk.Space()
    for a, b in WALLS[scene]:
        line = pymunk.Segment(space.static_body, a, b, 0.0)
        line.color = white
        space.add(line)
    body = pymunk.Body(1, pymunk.moment_for_circle(1, 0, 3, (0, 0)))
    body.position = ball
    circle = pymunk.Circle(body, 3, (0, 0))
    circle.color = white
    space.add(body, circle)
    if paddles is not None:
        for x, y in zip((0, RES - 2), paddles, strict=True):
            paddle = pymunk.Segment(space.static_body, (x, y + 3), (x, y - 3), 1.0)
            paddle.color = white
            space.add(paddle)
    space.debug_draw(pygame_util.DrawOptions(screen))
    pixels = pygame.surfarray.array2d(screen).swapaxes(1, 0)
    return pixels.astype(np.float32) / (2**24 - 1)


def random_states(scene: str, count: int, seed: int):
    """Ball centres over the whole frame and past it (touching and crossing the walls,
    half-integer ties of the centre's rounding included); pong's paddle centres at the
    whole rows the original's paddles take (they start at 16 and move by 2)."""
    rng = np.random.default_rng(seed)
    balls = rng.uniform(-4.0, RES + 4.0, (count, 2))
    balls[: count // 8] = np.round(balls[: count // 8] * 2) / 2
    paddles = rng.integers(0, RES + 1, (count, 2)).astype(float) if scene == "pong" else None
    return balls, paddles


@pytest.mark.parametrize("scene", ["box", "box_gravity", "polygon", "pong"])
def test_our_frames_equal_pygames_pixel_for_pixel(screen, scene):
    balls, paddles = random_states(scene, 400, seed=len(scene))
    # The studio's state: the same centres (pixel (row, col) covers [col, col + 1) x
    # [row, row + 1), pymunk's units at 32 px); paddle rows in the middle of their pixels.
    ours = render_frames(
        scene_params(scene),
        balls[:, None],
        paddles=None if paddles is None else (paddles + 0.5)[:, None],
        marker=True,
    )[:, 0]
    for k, ball in enumerate(balls):
        want = original_frame(screen, scene, tuple(ball), None if paddles is None else paddles[k])
        bad = np.argwhere(ours[k] != want)
        assert not len(bad), (
            f"{scene}, ball {tuple(ball)}, paddles {None if paddles is None else paddles[k]}: "
            f"{len(bad)} pixels differ, e.g. (row, col) {bad[:4].tolist()}: "
            f"ours {ours[k][tuple(bad[:4].T)]}, pygame {want[tuple(bad[:4].T)]}"
        )


@pytest.mark.parametrize("scene", ["box", "box_gravity", "polygon"])
def test_the_original_files_are_reproduced(screen, scene):
    """Frame t of a file shows the state recorded at t - 1 (the generators drew, then
    stepped, then recorded). Frames that show pymunk's collision points (red segments at
    the last step's contacts: grey levels other than 0, 1 and the marker's) cannot be made
    from a state; every other frame must equal both the oracle and our renderer."""
    archive = np.load(DATA / f"original-{scene.replace('_', '-')}.npz")
    images, state = archive["images"][:60], archive["state"][:60, :, :2].astype(np.float64)
    ours = render_frames(scene_params(scene), state[:, :-1], marker=True)
    clean = np.isin(images[:, 1:], [0.0, MARKER_VALUE, 1.0]).all(axis=(2, 3))
    assert clean.mean() > 0.8
    np.testing.assert_array_equal(ours[clean], images[:, 1:][clean])
    for s, t in np.argwhere(clean)[::7]:
        np.testing.assert_array_equal(original_frame(screen, scene, tuple(state[s, t])),
                                      images[s, t + 1])  # fmt: skip
    # Collision points only ever add lit pixels to what a state draws.
    marked = ~clean
    assert ((images[:, 1:][marked] > 0) >= (ours[marked] > 0)).all()
