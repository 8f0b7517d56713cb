"""What counts as observed when a roll-out starts: a few hidden pixels do not unsee a frame."""

from __future__ import annotations

import numpy as np

from model.masks import generation_start, observed_for_generation, planning_mask


def test_every_frame_seen_starts_from_the_papers_t_init():
    assert generation_start(np.ones(20), None, t_init=4) == 4
    assert generation_start(np.ones(3), None, t_init=4) == 3


def test_the_leading_run_of_seen_frames_before_the_first_hidden_one():
    assert generation_start(planning_mask(20), None, t_init=4) == 4
    visible = np.ones(20)
    visible[0] = 0
    assert generation_start(visible) == 0


def test_a_few_painted_pixels_in_the_first_frames_keep_them_observed():
    pixels = np.ones((20, 32, 32))
    pixels[:4, 0:3, 0:3] = 0  # nine background pixels in each of frames 0-3
    assert observed_for_generation(planning_mask(20), pixels)[:4].all()
    assert generation_start(planning_mask(20), pixels, t_init=4) == 4


def test_a_frame_mostly_painted_over_is_not_observed():
    pixels = np.ones((20, 32, 32))
    pixels[0, :, :20] = 0
    assert not observed_for_generation(np.ones(20), pixels)[0]
    assert generation_start(np.ones(20), pixels) == 0
    pixels[0] = 1
    pixels[2, :, :20] = 0
    assert generation_start(np.ones(20), pixels) == 2
