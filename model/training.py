"""The training loop, as a generator of progress events that can be paused and stopped.

The command line and the studio call the same `Trainer.run()`: it yields a
`StepReport` after every optimiser step and an `EpochReport` after every epoch,
and checks between steps whether it was asked to pause or stop. Schedule and
defaults follow the public release (kvae-model.md, section 7). Under torchrun, each
process runs a Trainer over its share of every batch (model.distributed).

What a run starts from and checks up front is in `model.training_setup`, the phases'
parameters and optimisers in `model.schedule`, the events in `model.training_reports`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from model import training_state
from model.checkpoint import save_model, save_resume_state
from model.distributed import Processes
from model.evaluation import imputation_metrics, test_elbo
from model.masks import planning_mask, training_mask
from model.objective import ELBOTerms
from model.precision import describe_machine, resolve_precision
from model.run_folder import BEST_FILE, LOG_FILE, MODEL_FILE, RESUME_FILE
from model.schedule import learning_rate, phase_of, phase_optimizer, train_only
from model.selection import METRICS, BestTracker
from model.training_options import TrainingOptions
from model.training_reports import EpochReport, Finished, StepReport, TrainingError, with_speed
from model.training_setup import check_options, check_sizes, pick_device, starting_model

MAX_BAD_STEPS = 10


class Trainer:
    """Trains a KVAE on in-memory sequences as its `TrainingOptions` say; `run()` yields
    events. (The options' data paths are the caller's: the Trainer takes the arrays.)

    `stop()`, `pause()` and `resume()` may be called from another thread; they
    take effect between optimiser steps. With a run folder, a checkpoint is
    written every `checkpoint_every` epochs and when stopped, and `resume=True`
    continues from the folder exactly where it stopped.

    With `validation_images` and the option `keep_best` (a name in
    `model.selection.METRICS`), every epoch is scored on the validation set and the best
    one is kept as best.safetensors; `patience` stops the run after that many epochs
    without a better score.

    `processes` (model.distributed) places it in a job of several processes: each
    trains on its share of every batch, and only rank 0 evaluates and writes.
    The option `precision="bf16"` runs the encoder and decoder under bfloat16 autocast;
    "auto" (the default) does where the hardware has native bf16 (`model.precision`), and
    `precision` then says which was taken and `precision_reason` why.

    A checkpoint is committed by the one atomic write of its resume state, which holds
    the weights too (`model.training_state`); `notes` says where a resumed run continues
    from when the run folder's model file is ahead of its last complete checkpoint.
    """

    def __init__(
        self,
        train_images: np.ndarray,
        test_images: np.ndarray | None = None,
        options: TrainingOptions | None = None,
        validation_images: np.ndarray | None = None,
        processes: Processes | None = None,
    ):
        options = options if options is not None else TrainingOptions()
        self.options = options
        check_options(options, validation_images is not None)
        self.device = pick_device(options.device)
        self.processes = processes or Processes(device=self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed batch shapes: pick the fastest
        self.run_dir = options.run_dir
        self.checkpoint_every = max(1, options.checkpoint_every)
        # What the model files say of the training data ({"scene": "box", "data": {...}}):
        # the caller who read the files knows (services.training), the arrays do not.
        self.data_description: dict[str, Any] = {}
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.train = torch.as_tensor(np.asarray(train_images, dtype=np.float32))
        self.test = None if test_images is None else np.asarray(test_images, dtype=np.float32)
        if options.eval_sequences is not None and self.test is not None:
            self.test = self.test[: options.eval_sequences]
        self.validation = (
            None if validation_images is None else np.asarray(validation_images, np.float32)
        )
        self.best = BestTracker(options.keep_best) if options.keep_best is not None else None
        self.patience = options.patience
        self.epoch, self.step, self.batch_index = 0, 0, 0
        self.wall_seconds = 0.0  # the epochs' time so far, resumes included
        self.machine = describe_machine(self.device)
        self.permutation: torch.Tensor | None = None
        self.model, config, resume_state, self.notes = starting_model(self.device, options)
        self.config = config
        self.precision, self.precision_reason = resolve_precision(options.precision, self.device)
        self.model.vae_precision = torch.bfloat16 if self.precision == "bf16" else None
        check_sizes(self.train, self.test, self.validation, config, self.processes.world_size)
        self.elbo: torch.nn.Module | None = None  # model.elbo, wrapped for the phase
        self._wrapped_phase: str | None = None
        self.optimizer_phase = phase_of(config, self.epoch)
        if resume_state is not None:
            self.optimizer_phase = str(resume_state.get("optimizer_phase", self.optimizer_phase))
        self.optimizer = phase_optimizer(self.model, config, self.optimizer_phase, self.epoch)
        seed = options.seed
        self.shuffle = torch.Generator().manual_seed(seed)
        self.noise = torch.Generator(device=self.device).manual_seed(seed + 1)
        self.miss_rng = np.random.default_rng(seed + 2)
        self._checkpoint_step: int | None = None  # the step of the files on disk
        if resume_state is not None:
            training_state.restore(self, resume_state)
            # With a note, the model file is ahead of the checkpoint: written again.
            self._checkpoint_step = None if self.notes else self.step
            if self.run_dir is not None and self.processes.writer:
                # A killed run logged steps past its checkpoint: they are trained again.
                training_state.trim_log(self.run_dir / LOG_FILE, self.step)

    # Control from other threads.
    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # The loop.
    def run(self) -> Iterator[StepReport | EpochReport | Finished]:
        cfg = self.config
        n = len(self.train)
        batches = max(1, n // cfg.batch_size)
        bad_steps = 0
        last_checkpoint = None
        while self.epoch < cfg.num_epochs:
            if self._out_of_patience():
                break
            if self.permutation is None:
                self.permutation = torch.randperm(n, generator=self.shuffle)
                self.batch_index = 0
            phase = phase_of(cfg, self.epoch)
            params = train_only(self.model, phase)
            if phase != self._wrapped_phase:
                # DDP syncs the gradients of the parameters trained when it was built:
                # rebuilt when the phase changes which ones are (twice in a run).
                self.elbo, self._wrapped_phase = self.processes.wrap(self.model), phase
            if cfg.optimizer_per_phase and phase != self.optimizer_phase:
                # The original builds one optimiser per phase: fresh Adam moments.
                self.optimizer_phase = phase
                self.optimizer = phase_optimizer(self.model, cfg, phase, self.epoch)
            lr = learning_rate(cfg, self.epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            epoch_start = time.perf_counter()
            elbos, taken = [], 0
            while self.batch_index < batches:
                self._running.wait()
                if self.processes.any(self._stop.is_set()):
                    last_checkpoint = self._checkpoint(stopped=True)
                    yield Finished("stopped", self.epoch, self.step, last_checkpoint)
                    return
                start = time.perf_counter()
                idx = self.permutation[
                    self.batch_index * cfg.batch_size : (self.batch_index + 1) * cfg.batch_size
                ]
                with self.processes.guard():  # DDP's all-reduce runs inside backward()
                    report = self._train_step(idx, params, phase, lr, batches)
                self.batch_index += 1
                taken += 1
                if report.skipped:
                    bad_steps += 1
                    if bad_steps >= MAX_BAD_STEPS:
                        kept = (
                            f"; the last good checkpoint is {last_checkpoint}"
                            if last_checkpoint
                            else ""
                        )
                        raise TrainingError(
                            f"training diverged: {bad_steps} steps in a row had a non-finite "
                            f"loss or gradient (epoch {self.epoch + 1}); try a lower init_lr{kept}"
                        )
                else:
                    bad_steps = 0
                    elbos.append(report.terms["elbo"])
                report = with_speed(report, len(idx) / max(time.perf_counter() - start, 1e-9))
                self._log(asdict(report))
                yield report
            if taken == batches and not elbos:  # (a resumed epoch's first part is unknown)
                raise TrainingError(
                    f"no step of epoch {self.epoch + 1} could be taken: the loss or the "
                    f"gradient was not finite at each of its {taken} steps (a model that "
                    "cannot train, e.g. --init-from a model without usable weights; or "
                    "try a lower init_lr)"
                )
            self.epoch += 1
            self.permutation = None
            report = self._end_epoch(elbos, phase, time.perf_counter() - epoch_start)
            if report.checkpoint:
                last_checkpoint = report.checkpoint
            yield report
        if self._checkpoint_step != self.step:  # the last epoch's may be written already
            last_checkpoint = self._checkpoint(stopped=False) or last_checkpoint
        last_checkpoint = last_checkpoint or self._checkpoint_path()
        reason = "no improvement" if self._out_of_patience() else "completed"
        yield Finished(reason, self.epoch, self.step, last_checkpoint)

    def _out_of_patience(self) -> bool:
        return (
            self.patience is not None
            and self.best is not None
            and self.best.since_best >= self.patience
        )

    def _train_step(self, idx, params, phase, lr, batches) -> StepReport:
        """One optimiser step on the global batch `idx`, of which this process takes
        its share; the skip decision and the reported terms are the whole batch's."""
        cfg, procs = self.config, self.processes
        self.model.train()
        rows = procs.share(len(idx))
        x = self._batch(idx[rows])
        mask = None
        if cfg.train_miss_prob > 0:  # drawn for the whole batch, as the noise is
            m = training_mask(
                len(idx), x.shape[1], cfg.train_miss_prob, cfg.t_init_train_miss, self.miss_rng
            )
            mask = torch.as_tensor(m[rows], device=self.device)
            observed, total = float(m[rows].sum()), float(m.sum())
        else:
            observed, total = float(rows.stop - rows.start), float(len(idx))
        # The ELBO is a sum over the batch per observed frame: this process's share of
        # the frames, times the world size (DDP averages), makes the one-process gradient.
        weight = 1.0 if not procs.distributed else procs.world_size * observed / total
        self.optimizer.zero_grad(set_to_none=True)
        grad_norm = math.nan
        try:
            terms = self.elbo(x, mask, generator=self.noise, share=(rows.start, len(idx)))
            bad = not bool(torch.isfinite(terms.elbo))
        except torch.linalg.LinAlgError:
            # A covariance that lost positive definiteness (NaN weights, a huge lr) is
            # the same failure as a non-finite loss: skip the step, count it, go on.
            terms, bad = None, True
        skipped = procs.any(bad)
        if not skipped:
            (-terms.elbo * weight).backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
            skipped = procs.any(not math.isfinite(grad_norm))
        if skipped:
            self.optimizer.zero_grad(set_to_none=True)
        else:
            self.optimizer.step()
        self.step += 1
        values = (
            {k: float(v.detach()) for k, v in terms._asdict().items()}
            if terms is not None
            else dict.fromkeys(ELBOTerms._fields, math.nan)
        )
        if procs.distributed:
            summed = procs.sum([v * weight for v in values.values()])
            values = {k: v / procs.world_size for k, v in zip(values, summed, strict=True)}
        return StepReport(
            epoch=self.epoch + 1,
            step=self.step,
            batch=self.batch_index + 1,
            batches=batches,
            phase=phase,
            terms=values,
            lr=lr,
            grad_norm=grad_norm,
            sequences_per_second=0.0,
            skipped=skipped,
        )

    def _batch(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.train[idx]
        if self.device.type == "cuda":
            x = x.pin_memory()
        return x.to(self.device, non_blocking=True)

    def _end_epoch(self, elbos: list[float], phase: str, seconds: float) -> EpochReport:
        evaluation_start = time.perf_counter()
        self.model.eval()
        elbo_test, hamming = None, {}
        if self.test is not None and len(self.test) and self.processes.writer:
            elbo_test = test_elbo(self.model, self.test)
            steps = self.test.shape[1]
            mask = planning_mask(steps, self.config.t_init_mask, self.config.t_steps_mask)
            hamming = imputation_metrics(self.model, self.test, mask)["hamming"]
        validation = self._validate()
        self.wall_seconds += seconds + time.perf_counter() - evaluation_start
        commit = (
            self.epoch % self.checkpoint_every == 0
            or self.epoch == self.config.num_epochs
            or self._out_of_patience()
        )
        checkpoint = self._checkpoint_path() if commit else None
        report = EpochReport(
            epoch=self.epoch,
            epochs=self.config.num_epochs,
            step=self.step,
            phase=phase,
            train_elbo=float(np.mean(elbos)) if elbos else math.nan,
            test_elbo=elbo_test,
            hamming=hamming,
            seconds=seconds,
            checkpoint=checkpoint,
            validation=validation,
        )
        # Logged before the checkpoint: a crash between the two leaves a record past the
        # last checkpoint's step, which a resumed run drops (trim_log) and writes again.
        self._log({**asdict(report), "world_size": self.processes.world_size})
        if commit:
            self._checkpoint(stopped=False)
        return report

    def _validate(self) -> dict | None:
        """Score this epoch on the validation set; keep it as best.safetensors if best."""
        if self.best is None or self.validation is None:
            return None
        score, figures = math.nan, {}
        if self.processes.writer:  # the others take rank 0's score and best
            score, figures = METRICS[self.best.metric].evaluate(self.model, self.validation)
            if self.best.update(self.epoch, score) and self.run_dir is not None:
                save_model(self.model, self.run_dir / BEST_FILE, self._summary(stopped=False))
        score, figures, state = self.processes.from_writer((score, figures, self.best.state()))
        if not self.processes.writer:
            self.best = BestTracker.from_state(state)
        return {"score": score, **state, **({"figures": figures} if figures else {})}

    # Checkpoints.
    def _checkpoint_path(self) -> str | None:
        """Where this process writes the model (None: it writes nothing)."""
        if self.run_dir is None or not self.processes.writer:
            return None
        return str(self.run_dir / MODEL_FILE)

    def _checkpoint(self, stopped: bool) -> str | None:
        """The model file, then the resume state that commits it (weights included)."""
        path = self._checkpoint_path()
        if path is None:
            return None
        digest = save_model(self.model, path, self._summary(stopped))
        state = training_state.resume_state(self, model_sha256=digest)
        save_resume_state(self.run_dir / RESUME_FILE, state)
        self._checkpoint_step = self.step
        return path

    def _summary(self, stopped: bool) -> dict:
        summary: dict = {
            **self.data_description,
            "epoch": self.epoch,
            "step": self.step,
            "stopped": stopped,
            "world_size": self.processes.world_size,
            "precision": self.precision,
            "wall_seconds": round(self.wall_seconds, 1),
            "machine": self.machine,
        }
        if self.best is not None:
            summary["selection"] = {
                "metric": self.best.metric,
                "describe": METRICS[self.best.metric].describe,
                "validation_sequences": len(self.validation),
            }
        return summary

    def _log(self, record: dict) -> None:
        if self.run_dir is None or not self.processes.writer:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / LOG_FILE, "a") as f:
            f.write(json.dumps(record) + "\n")
