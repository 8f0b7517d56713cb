"""How fast the numpy renderer draws frames, beside the release's pygame drawing in the same run.

    python benchmarks/bench_render.py [--frames 20000]

Box scene, 32 x 32, rotation marker on. The reference is the original generators' way:
one pymunk space with the walls and the ball, the ball moved, `space.debug_draw` with
pymunk's pygame DrawOptions on a 24-bit Surface, read back with surfarray (pygame is a
test extra). Also checks that both give the same frames.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np

from kvae_studio.sim.render import render_frames
from kvae_studio.sim.scenes import scene_params


def pygame_frames(centres: np.ndarray) -> np.ndarray:
    import pygame
    import pymunk
    import pymunk.pygame_util

    pygame.init()
    pygame.display.set_mode((32, 32), 0, 24)
    screen = pygame.Surface((32, 32), pygame.SRCCOLORKEY, 24)
    white = pygame.color.THECOLORS["white"]
    space = pymunk.Space()
    for a, b in (((2, 2), (2, 30)), ((2, 2), (30, 2)), ((30, 30), (2, 30)), ((30, 30), (30, 2))):
        wall = pymunk.Segment(space.static_body, a, b, 0.0)
        wall.color = white
        space.add(wall)
    body = pymunk.Body(1, pymunk.moment_for_circle(1, 0, 3, (0, 0)))
    ball = pymunk.Circle(body, 3)
    ball.color = white
    space.add(body, ball)
    options = pymunk.pygame_util.DrawOptions(screen)
    out = np.empty((len(centres), 32, 32), np.float32)
    for k, centre in enumerate(centres):
        screen.fill((0, 0, 0))
        body.position = tuple(centre)
        space.reindex_shapes_for_body(body)
        space.debug_draw(options)
        out[k] = pygame.surfarray.array2d(screen).swapaxes(1, 0) / np.float32(2**24 - 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    args = parser.parse_args()
    centres = np.random.default_rng(0).uniform(6, 26, (args.frames, 2))
    start = time.perf_counter()
    ours = render_frames(scene_params("box"), centres[:, None], marker=True)[:, 0]
    numpy_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = pygame_frames(centres)
    pygame_s = time.perf_counter() - start
    print(f"numpy renderer: {args.frames / numpy_s:,.0f} frames/s")
    print(f"pygame (the release's drawing): {args.frames / pygame_s:,.0f} frames/s")
    print(f"same frames: {np.array_equal(ours, theirs)}")


if __name__ == "__main__":
    main()
