"""The simulator: the ball stays inside the walls, keeps its energy, lines up with `state`."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from kvae_studio.sim import (
    SCENES,
    PongParams,
    SimulationCancelled,
    iter_batches,
    launch_states,
    render_ball,
    render_paddles,
    scene_params,
    simulate,
    simulate_trajectories,
    wall_image,
)
from kvae_studio.sim.scenes import WALL_HALF_WIDTH

SEQUENCES = 1000
STEPS = 20
ORIGINALS = Path(__file__).resolve().parent / "data"  # the original generator's files
ORIGINAL_FILES = {
    "box": "original-box.npz",
    "box_gravity": "original-box-gravity.npz",
    "polygon": "original-polygon.npz",
    "pong": "original-pong.npz",
}

_cache: dict[str, object] = {}


def trajectories(name: str):
    """1000 sequences of a scene, computed once for the whole module."""
    if name not in _cache:
        _cache[name] = simulate_trajectories(name, SEQUENCES, STEPS, seed=7)
    return _cache[name]


def _interior(params) -> np.ndarray:
    """Pixels whose centre lies strictly inside the walls and off every wall pixel."""
    n = params.size
    centres = (np.arange(n) + 0.5) / params.scale
    px, py = np.meshgrid(centres, centres)
    walls = wall_image(params) > 0
    if isinstance(params, PongParams):
        floor, roof = params.floor_row + 0.5, params.roof_row + 0.5
        return (py > floor) & (py < roof) & ~walls
    inside = np.ones((n, n), dtype=bool)
    corners = params.wall_segments()[:, 0]
    area = np.sum(
        corners[:, 0] * np.roll(corners[:, 1], -1) - np.roll(corners[:, 0], -1) * corners[:, 1]
    )
    for a, b in params.wall_segments():
        cross = (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0])
        inside &= np.sign(area) * cross > 0
    return inside & ~walls


@pytest.mark.parametrize("name", list(SCENES))
def test_ball_pixels_stay_inside_the_walls(name):
    params = scene_params(name)
    traj = trajectories(name)
    walls = wall_image(params) > 0
    interior = _interior(params)
    for lo in range(0, SEQUENCES, 250):
        ball = render_ball(params, traj.state[lo : lo + 250, :, :2]) > 0
        assert ball.any(axis=(2, 3)).mean() > 0.9  # the ball is drawn at all
        assert not (ball & walls).any(), "a ball pixel is drawn over a wall"
        outside = ball & ~interior
        if isinstance(params, PongParams):
            paddles = render_paddles(params, traj.paddles[lo : lo + 250]) > 0
            assert not (ball & paddles).any(), "a ball pixel is drawn over a paddle"
        assert not outside.any(), f"{outside.sum()} ball pixels outside the walls"


@pytest.mark.parametrize("name", ["box", "box_gravity", "polygon"])
def test_ball_centre_never_crosses_a_wall(name):
    params = scene_params(name)
    xy = trajectories(name).state[..., :2] / params.scale
    radius = params.collision_radius(WALL_HALF_WIDTH)
    overlap = params.max_relative_speed() * params.dt / params.physics_substeps()
    for a, b in params.wall_segments():
        ab = b - a
        t = np.clip(((xy - a) @ ab) / (ab @ ab), 0, 1)
        dist = np.linalg.norm(xy - (a + t[..., None] * ab), axis=-1)
        assert dist.min() >= params.ball_radius + radius - overlap - 1e-4


@pytest.mark.parametrize("name", ["box", "polygon"])
def test_speed_is_kept_through_every_bounce(name):
    state = trajectories(name).state.astype(np.float64)
    speed = np.hypot(state[..., 2], state[..., 3])
    bounced = (np.sign(np.diff(state[..., 2], axis=1)) != 0).any(axis=1)
    assert bounced.mean() > 0.5  # most sequences do bounce
    assert np.abs(speed / speed[:, :1] - 1).max() < 0.01


def test_energy_is_kept_under_gravity():
    params = scene_params("box_gravity")
    state = trajectories("box_gravity").state.astype(np.float64) / params.scale
    g = np.array(params.gravity)
    floor = params.inset + 0.5 + params.collision_radius(WALL_HALF_WIDTH) + params.ball_radius
    height = state[..., :2] - np.array([0.0, floor])
    energy = 0.5 * (state[..., 2] ** 2 + state[..., 3] ** 2) - height @ g
    assert np.abs(energy / energy[:, :1] - 1).max() < 0.02
    # and the ball does fall: towards row 0, as in the original data
    dv = np.median(np.diff(state[..., 3], axis=1))
    assert dv == pytest.approx(params.gravity_y * params.dt, rel=1e-4) and dv < 0


def test_pong_ball_stays_between_floor_and_roof_and_paddles_follow():
    params = scene_params("pong")
    traj = trajectories("pong")
    y = traj.state[..., 1] / params.scale
    assert y.min() > params.floor_row + 1 and y.max() < params.roof_row
    lo, hi = params.paddle_centre_limits()
    paddles = traj.paddles / params.scale
    assert paddles.min() >= lo - 1e-4 and paddles.max() <= hi + 1e-4
    moves = np.abs(np.diff(paddles, axis=1))
    assert moves.max() <= params.paddle_speed + 1e-4
    # a paddle ends up closer to the ball than it started, on average
    start_gap = np.abs(paddles[:, 0, 0] - y[:, 0]).mean()
    later_gap = np.abs(paddles[:, 5:, 0] - y[:, 5:]).mean()
    assert later_gap < start_gap


@pytest.mark.parametrize("name", list(SCENES))
def test_state_lines_up_with_the_picture(name):
    params = scene_params(name)
    images, state = simulate(name, 50, STEPS, seed=3)
    ball = render_ball(params, state[..., :2])
    rows, cols = np.mgrid[: params.size, : params.size] + 0.5
    mass = ball.sum(axis=(2, 3))
    full = mass > 0.9 * mass.max()  # skip frames where the ball is cut by the frame's edge
    cx = (ball * cols).sum(axis=(2, 3))[full] / mass[full]
    cy = (ball * rows).sum(axis=(2, 3))[full] / mass[full]
    # the disc is drawn around the nearest pixel corner, as the original's pygame circle
    assert np.abs(cx - state[..., 0][full]).max() <= 0.5 + 1e-4
    assert np.abs(cy - state[..., 1][full]).max() <= 0.5 + 1e-4
    assert np.abs(cx - state[..., 0][full]).mean() == pytest.approx(0.25, abs=0.05)
    # the picture is the walls plus this ball (plus pong's paddles)
    assert np.all(images >= ball - 1e-7)
    assert np.all(images >= wall_image(params) - 1e-7)
    # motion between frames matches the velocity
    moved = np.diff(state[..., 0], axis=1)
    predicted = state[:, :-1, 2] * params.dt
    assert np.median(np.abs(moved - predicted)) < 1e-3


@pytest.mark.parametrize("name", list(SCENES))
def test_same_seed_same_data_other_seed_other_data(name):
    a_images, a_state = simulate(name, 30, 10, seed=11)
    b_images, b_state = simulate(name, 30, 10, seed=11)
    c_images, _ = simulate(name, 30, 10, seed=12)
    assert a_images.tobytes() == b_images.tobytes()
    assert a_state.tobytes() == b_state.tobytes()
    assert not np.array_equal(a_images, c_images)


def test_launch_of_a_sequence_does_not_depend_on_how_many_are_made():
    params = scene_params("box")
    start_few, vel_few = launch_states(params, 10, seed=5)
    start_many, vel_many = launch_states(params, 1000, seed=5)
    np.testing.assert_array_equal(start_few, start_many[:10])
    np.testing.assert_array_equal(vel_few, vel_many[:10])


@pytest.mark.parametrize("name", list(SCENES))
def test_launch_follows_the_paper(name):
    params = scene_params(name)
    start, velocity = launch_states(params, 20000, seed=1)
    speed = np.hypot(*velocity.T)
    assert speed.min() >= params.speed_min - 1e-9 and speed.max() <= params.speed_max + 1e-9
    angle = np.degrees(np.arctan2(velocity[:, 1], velocity[:, 0])) % 360
    assert np.histogram(angle, bins=4, range=(0, 360))[0].min() > 4500  # any direction
    inside = start - np.array([params.start_x, params.start_y])
    untouched = np.abs(inside).max(axis=1) < 0.5 * params.start_spread
    assert abs(inside[untouched].mean()) < 0.1  # centred on the paper's (16, 16)
    assert params.start_region()[:, 0].min() - 1e-9 <= start[:, 0].min()


def test_frame_size_scales_the_scene():
    small_images, small = simulate("box", 20, 10, seed=2)
    big_images, big = simulate(dataclasses.replace(scene_params("box"), size=64), 20, 10, seed=2)
    assert big_images.shape == (20, 10, 64, 64)
    np.testing.assert_allclose(big, 2 * small, rtol=1e-6)
    lit_small = (small_images > 0).sum(axis=(2, 3)).mean()
    lit_big = (big_images > 0).sum(axis=(2, 3)).mean()
    assert lit_big == pytest.approx(4 * lit_small, rel=0.05)


def test_progress_reports_and_can_cancel():
    calls = []
    simulate("box", 600, 5, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 600) and calls[-1] == (600, 600)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    with pytest.raises(SimulationCancelled):
        simulate("box", 600, 5, progress=lambda done, total: done < 256)

    def boom(done, total):
        raise KeyError("stop")

    with pytest.raises(KeyError):
        simulate("box", 10, 5, progress=boom)


def test_batches_concatenate_to_simulate():
    images, state = simulate("pong", 300, 6, seed=4)
    parts = [(b.images.copy(), b.state.copy()) for b in iter_batches("pong", 300, 6, seed=4)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), images)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), state)


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("box", {"ball_radius": 14.0}, "does not fit"),
        ("polygon", {"ball_radius": 8.0}, "does not fit"),
        ("pong", {"ball_radius": -1.0}, "ball_radius"),
        ("box", {"speed_min": 5.0, "speed_max": 2.0}, "speed_min"),
        ("polygon", {"walls": ((1, 1), (30, 30), (30, 1), (1, 30))}, "convex"),
        ("pong", {"floor_row": 20.0, "roof_row": 10.0}, "floor_row"),
        ("box", {"size": 4}, "size"),
        ("box", {"wall_elasticity": 1.5}, "wall_elasticity"),
        ("nope", {}, "unknown scene"),
        ("pong", {"inset": 2.0}, "no parameter inset"),
    ],
)
def test_bad_parameters_are_refused_clearly(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        scene_params(name, **overrides)


@pytest.mark.parametrize("name", list(SCENES))
def test_frames_have_the_originals_footprint(name):
    path = ORIGINALS / ORIGINAL_FILES[name]
    original = np.load(path)["images"] > 0
    params = scene_params(name)
    images, _ = simulate(name, 200, STEPS, seed=0)
    ours = images > 0
    walls = wall_image(params) > 0
    original_static = original.all(axis=(0, 1))
    # every wall pixel of the original is a wall pixel of ours
    assert (original_static & ~walls).sum() == 0
    if name == "pong":
        return  # ours adds the roof line the original left off-screen, and moves paddles
    assert walls.sum() <= original_static.sum() + 5
    ball_ours = (ours & ~walls).sum(axis=(2, 3)).mean()
    ball_original = (original & ~original_static).sum(axis=(2, 3)).mean()
    assert ball_ours == pytest.approx(ball_original, abs=1.0)  # about 25 pixels
    # where the ball goes: the maps of lit pixels agree
    map_ours = (ours & ~walls).mean(axis=(0, 1)).ravel()
    map_original = (original & ~original_static).mean(axis=(0, 1)).ravel()
    assert np.corrcoef(map_ours, map_original)[0, 1] > 0.9


def _ball_shapes(images: np.ndarray, walls: np.ndarray) -> collections.Counter:
    """How often each binarised ball outline (cropped to its bounding box) appears."""
    shapes = collections.Counter()
    for frame in (images > 0) & ~walls:
        rows, cols = np.nonzero(frame)
        if len(rows):
            crop = frame[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            shapes[(crop.shape, crop.tobytes())] += 1
    return shapes


def test_the_ball_is_drawn_as_the_originals_pygame_circle():
    """One outline in every frame, the original's disc less its rotation marker's tail.

    An anti-aliased ball at sub-pixel positions gives a hundred outlines once binarised,
    and a model trained on them reconstructs the original files three times worse.
    """
    original = np.load(ORIGINALS / "original-box.npz")["images"]
    original_walls = (original > 0).all(axis=(0, 1))
    (shape, data), _ = _ball_shapes(original.reshape(-1, 32, 32), original_walls).most_common(1)[0]
    theirs = np.frombuffer(data, dtype=bool).reshape(shape)

    params = scene_params("box")
    images, _ = simulate("box", 100, STEPS, seed=4)
    ours = _ball_shapes(images.reshape(-1, 32, 32), wall_image(params) > 0)
    assert len(ours) == 1
    (shape, data) = next(iter(ours))
    disc = np.frombuffer(data, dtype=bool).reshape(shape)
    assert disc.sum() == 24 and shape == (6, 6)
    assert np.array_equal(theirs[:, :6] & disc, disc)  # the marker adds one pixel to the right
    assert theirs.sum() - disc.sum() == 1
    assert set(np.unique(images)) <= {0.0, 1.0}  # white on black, as the original draws it


def test_the_rotation_marker_gives_the_originals_outline_and_grey_levels():
    """With the release's rotation marker the ball has the original's binarised outline,
    disc and marker's tail, in every frame, and the marker's grey level; the motion
    is the same as without it."""
    original = np.load(ORIGINALS / "original-box.npz")["images"]
    original_walls = (original > 0).all(axis=(0, 1))
    theirs = _ball_shapes(original.reshape(-1, 32, 32), original_walls)
    (their_shape, _), _ = theirs.most_common(1)[0]

    params = scene_params("box")
    images, state = simulate("box", 100, STEPS, seed=4, marker=True)
    plain, plain_state = simulate("box", 100, STEPS, seed=4)
    assert np.array_equal(state, plain_state)
    walls = wall_image(params) > 0
    free = ((images > 0) & ~walls).sum(axis=(2, 3)) == 25  # the marker's tip off the walls
    ours = _ball_shapes(images[free], walls)
    assert len(ours) == 1 and next(iter(ours)) == theirs.most_common(1)[0][0]
    assert their_shape == (6, 7)
    # The original's fourth grey level, 0xE74C3C / (2**24 - 1), is pymunk's red collision
    # point, drawn at the last step's contacts (not the marker over a wall: the walls are
    # drawn after the ball); tests/test_render_pygame_oracle.py checks against pygame.
    collision = np.float32(0xE74C3C / (2**24 - 1))
    assert set(np.unique(images)) == set(np.unique(original)) - {collision}
    # The marker only ever adds pixels to the binarised frame, next to the plain disc.
    assert ((plain > 0) & ~(images > 0)).sum() == 0
    added = (images > 0).sum(axis=(2, 3)) - (plain > 0).sum(axis=(2, 3))
    assert set(np.unique(added)) <= {0, 1}


def test_legacy_physics_sinks_into_walls_as_the_originals_do():
    """--legacy-physics makes data with the paper's kinematics: one step per frame lets
    the ball sink into a wall at most bounces, in about one frame in ten; ours never does."""
    original = np.load(ORIGINALS / "original-box.npz")["state"][..., :2]
    legacy = simulate("box", 1000, STEPS, seed=5, legacy=True)[1][..., :2]
    exact = simulate("box", 1000, STEPS, seed=5)[1][..., :2]

    def sunk(centres):  # the centre closer than radius 3 + 1.5 px to a wall line at 2 or 30
        return ((centres < 4.5) | (centres > 27.5)).any(-1).mean()

    assert sunk(original) == pytest.approx(0.0975, abs=0.005)  # what the paper's files show
    assert sunk(legacy) == pytest.approx(sunk(original), abs=0.02)
    assert sunk(exact) < 0.01
    again = simulate("box", 50, STEPS, seed=5, legacy=True)[1]
    assert np.array_equal(again, simulate("box", 50, STEPS, seed=5, legacy=True)[1])
    with pytest.raises(ValueError, match="not pong"):
        simulate("pong", 4, STEPS, legacy=True)
