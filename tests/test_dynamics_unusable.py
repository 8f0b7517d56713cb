"""The Dynamics tab's tasks on weights the filter cannot use (huge weights pass the
whole-file check): each ends as one line naming the model's file, never as a map, a
roll-out or error curves made of NaN drawn as if they were the model's."""

from __future__ import annotations

import types

import hostile_files as hostile
import pytest

from kvae_studio.services import dynamics_tasks
from kvae_studio.services.dynamics import Source
from kvae_studio.services.model_ref import model_ref_of_file
from model.data import save_sequences
from model.model_file import ModelFileError

TASKS = ["regime_map", "alpha_map", "regime_flow", "imagination", "error_over_time"]


@pytest.fixture(scope="module")
def huge_source(tmp_path_factory) -> Source:
    folder = tmp_path_factory.mktemp("huge")
    path = hostile.model_file(folder / "huge.safetensors", scale=1e30)
    data = folder / "sixteen.npz"
    save_sequences(data, hostile.sequences(4, 20, 16))
    return Source(model_ref_of_file(path), str(data))


@pytest.mark.parametrize("task", TASKS)
def test_each_task_names_the_file_in_one_line(huge_source, task):
    ctx = types.SimpleNamespace(cancelled=False, progress=lambda *_: None)
    with pytest.raises(ModelFileError) as caught:
        result = getattr(dynamics_tasks, task)(ctx, huge_source)
        if hasattr(result, "__next__"):  # a streaming task fails as it streams
            list(result)
    message = str(caught.value)
    assert message.startswith("huge.safetensors: cannot be used on these sequences")
    assert "\n" not in message
