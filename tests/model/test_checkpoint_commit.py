"""Issue 26, item 1: one checkpoint, one commit.

A run is crashed at every write of its checkpoints (before the write, half-way through
it as a killed writer leaves it, and right after it) and mid-epoch, then resumed: the
resumed run's model and resume state hold the uninterrupted run's tensors bit for bit,
and its log the same records once each (timings aside); or the resume is refused in one
line and changes nothing. Run folders written before the resume file held the weights
resume when their pair was written at the same step, and are refused otherwise.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from kvae_reference import box_data
from safetensors.torch import load_file, save_file
from trainer_options import cpu_fp32

from model import temp_files
from model.config import KVAEConfig
from model.model_file import read_metadata
from model.training import Trainer, TrainingError

CONFIG = KVAEConfig(
    frame_size=16, filters=(4, 4), alpha_units=8, K=2, dim_z=3, batch_size=4,
    kf_update_steps=1, train_miss_prob=0.3, num_epochs=2,
)  # fmt: skip
TIMINGS = ("sequences_per_second", "seconds")


class Crash(BaseException):
    """What a kill looks like from inside: nothing after it runs, nothing catches it."""


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return box_data(12, seed=4)[0][:, :6]  # 3 batches an epoch, 6 steps in all


@pytest.fixture(scope="module")
def straight(images, tmp_path_factory) -> Path:
    """The folder of the uninterrupted run."""
    folder = tmp_path_factory.mktemp("straight")
    list(Trainer(images, options=cpu_fp32(config=CONFIG, run_dir=folder)).run())
    return folder


def writes_of_a_run(images, folder: Path, monkeypatch) -> int:
    """How many atomic writes a run's checkpoints make (every file goes through one)."""
    calls = []
    real = temp_files.atomic_write_bytes
    monkeypatch.setattr(
        temp_files, "atomic_write_bytes", lambda path, data: calls.append(path) or real(path, data)
    )
    list(Trainer(images, options=cpu_fp32(config=CONFIG, run_dir=folder)).run())
    monkeypatch.undo()
    return len(calls)


def crash_at_write(monkeypatch, k: int, when: str) -> None:
    """The k-th atomic write (0-based) crashes: before it, during it (a temporary file
    holding half the bytes is left behind, as a killed writer leaves it) or after it."""
    real = temp_files.atomic_write_bytes
    count = iter(range(1_000_000))

    def write(path, data):
        if next(count) != k:
            return real(path, data)
        if when == "during":
            temp_files.temporary_path(path).write_bytes(data[: len(data) // 2])
        if when == "after":
            real(path, data)
        raise Crash(f"{when} write {k} ({Path(path).name})")

    monkeypatch.setattr(temp_files, "atomic_write_bytes", write)


def resume_to_the_end(images, folder: Path, epochs: int | None = None) -> str | list[str]:
    """Resume the run in `folder` to its end: the refusal's message if refused, else the
    notes the trainer gave on where it continues from."""
    before = digests(folder)
    try:
        trainer = Trainer(images, options=cpu_fp32(run_dir=folder, resume=True, epochs=epochs))
    except TrainingError as err:
        assert "\n" not in str(err)
        assert digests(folder) == before  # a refusal changes nothing
        return str(err)
    list(trainer.run())
    return trainer.notes


def assert_same_run(folder: Path, reference: Path) -> None:
    """The model and resume files hold the reference's tensors, bit for bit, and the same
    metadata (safetensors writes its metadata in no fixed order: compared as values); the
    log holds the reference's records once each, timings aside."""
    for name in ("model.safetensors", "resume.safetensors"):
        got, want = load_file(folder / name), load_file(reference / name)
        assert got.keys() == want.keys(), name
        for key in want:
            assert torch.equal(got[key], want[key]), (name, key)
        assert metadata(folder / name) == metadata(reference / name), name
    named = json.loads(read_metadata(folder / "resume.safetensors")["values"])["model_sha256"]
    assert named == sha256(folder / "model.safetensors")  # the resume state's own model
    assert log_records(folder) == log_records(reference)


def metadata(path: Path) -> dict:
    """A safetensors file's metadata, its JSON strings read as values; the model file's
    hash left out (safetensors orders the metadata at random: the bytes differ), and the
    time the epochs took (a timing, as in the log)."""
    meta = {k: json.loads(v) if k != "format" else v for k, v in read_metadata(path).items()}
    meta.get("values", {}).pop("model_sha256", None)
    for record in (meta.get("values", {}), meta.get("summary", {})):
        record.pop("wall_seconds", None)
    return meta


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("when", ["before", "during", "after"])
def test_a_crash_at_any_write_of_a_checkpoint_resumes_to_the_same_run(
    images, straight, tmp_path, monkeypatch, when
):
    writes = writes_of_a_run(images, tmp_path / "count", monkeypatch)
    assert writes >= 4  # model and resume state, at the end of each of two epochs
    ahead = 0
    for k in range(writes):
        folder = tmp_path / f"crash-{k}"
        crash_at_write(monkeypatch, k, when)
        with pytest.raises(Crash) as crash:
            list(Trainer(images, options=cpu_fp32(config=CONFIG, run_dir=folder)).run())
        monkeypatch.undo()
        model_ahead = (folder / "resume.safetensors").exists() and "model" in str(crash.value)
        outcome = resume_to_the_end(images, folder)
        if isinstance(outcome, str):  # only before the first resume state is in place
            assert "nothing to resume" in outcome, (k, outcome)
            assert not (folder / "resume.safetensors").exists()
            continue
        assert_same_run(folder, straight)
        if when == "after" and model_ahead:  # the user is told where the run continues
            assert any("continuing from that checkpoint, epoch 1" in n for n in outcome)
            ahead += 1
    assert ahead or when != "after"  # the crash this issue is about was among them


def test_a_crash_mid_epoch_leaves_no_step_twice_in_the_log(images, straight, tmp_path):
    folder = tmp_path / "run"
    trainer = Trainer(images, options=cpu_fp32(config=CONFIG, run_dir=folder))
    for event in trainer.run():
        if event.kind == "step" and event.step == 5:  # two steps into epoch 2
            break  # the process dies here: epoch 2's records stay in the log
    del trainer
    steps = [json.loads(r)["step"] for r in log_records(folder) if '"kind": "step"' in r]
    assert steps == [1, 2, 3, 4, 5]
    assert resume_to_the_end(images, folder) == []
    assert_same_run(folder, straight)


def test_a_run_folder_of_the_older_format_resumes_only_from_a_matching_pair(
    images, straight, tmp_path
):
    """Before the resume file held the weights, a run folder was model.safetensors beside
    resume.safetensors: such a pair resumes when both were written at the same step; one
    whose model is an epoch ahead of its resume state (the crash this issue is about) is
    refused in one line naming both epochs."""
    one_epoch = CONFIG.with_overrides(["num_epochs=1"])
    matching = tmp_path / "matching"
    list(Trainer(images, options=cpu_fp32(config=one_epoch, run_dir=matching)).run())
    as_older_format(matching / "resume.safetensors")
    assert resume_to_the_end(images, matching, epochs=2) == []
    want = load_file(straight / "model.safetensors")
    got = load_file(matching / "model.safetensors")
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert torch.equal(got[key], value), key

    mixed = tmp_path / "mixed"
    list(Trainer(images, options=cpu_fp32(config=one_epoch, run_dir=mixed)).run())
    as_older_format(mixed / "resume.safetensors")
    older_state = (mixed / "resume.safetensors").read_bytes()
    list(Trainer(images, options=cpu_fp32(run_dir=mixed, resume=True, epochs=2)).run())
    (mixed / "resume.safetensors").write_bytes(older_state)  # epoch 2's model, epoch 1's state
    refused = resume_to_the_end(images, mixed, epochs=3)
    assert isinstance(refused, str), "trained on a mixed pair"
    assert "epoch 2" in refused and "epoch 1" in refused, refused


def as_older_format(path: Path) -> None:
    """Rewrite a resume file as the studio wrote it before it held the weights."""
    tensors = {k: v for k, v in load_file(path).items() if not k.startswith("weights.")}
    meta = read_metadata(path)
    values = json.loads(meta["values"])
    for key in ("config", "model_sha256"):
        values.pop(key, None)
    save_file(tensors, path, metadata={**meta, "values": json.dumps(values)})


def log_records(folder: Path) -> list[str]:
    """The log's records without their timings, the checkpoint named by its file alone."""
    shown = []
    for line in (folder / "log.jsonl").read_text().splitlines():
        record = {k: v for k, v in json.loads(line).items() if k not in TIMINGS}
        if record.get("checkpoint"):
            record["checkpoint"] = Path(record["checkpoint"]).name
        shown.append(json.dumps(record, sort_keys=True))
    return shown


def digests(folder: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


def test_trimming_the_log_on_resume_keeps_lines_it_cannot_read_and_drops_later_steps(tmp_path):
    """A resumed run drops the killed run's records past its checkpoint; a log edited
    into other text (bytes that are not UTF-8, JSON nested past the stack) is kept as it
    is instead of ending the resume with a traceback (the hostile re-run found it)."""
    from model.training_state import trim_log

    log = tmp_path / "log.jsonl"
    lines = [
        b'{"kind": "step", "step": 1}\n',
        b"\xd1\xff not utf-8\n",
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b'{"kind": "step", "step": 2}\n',
        b'{"kind": "step", "step": 3}\n',
        b'{"kind": "step", "st',  # cut short by the kill
    ]
    log.write_bytes(b"".join(lines))
    trim_log(log, last_step=2)
    assert log.read_bytes() == b"".join(lines[:4])
