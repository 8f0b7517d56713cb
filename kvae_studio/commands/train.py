"""`kvae-studio train`: train a KVAE on a dataset file, with the paper's schedule.

Launched by torchrun (`torchrun --nproc-per-node=N -m kvae_studio train ...`), every
process runs this command: they share each batch (model.distributed), and rank 0 alone
prints and writes the run folder.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvae_studio.commands import _options
from kvae_studio.commands.field_options import add_field_options, given_fields
from kvae_studio.commands.terminal import on_terminal, progress_bar, shown
from model.field_text import show_text
from model.run_folder import RESUME_FILE
from model.training_options import (
    Option,
    TrainingOptions,
    default_of,
    flagged_fields,
    value_type,
)
from model.training_reports import EpochReport, StepReport

if TYPE_CHECKING:
    from model.config import KVAEConfig


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a KVAE on a .npz dataset",
        description="Train a KVAE with the paper's schedule; checkpoints go to RUN_DIR.",
    )
    # The run's options are TrainingOptions' fields; three flags of the command alone go
    # where --help has always listed them.
    after = {"run_dir": _add_overwrite, "seed": _add_set}
    for name, option in flagged_fields().items():
        _add_option(p, name, option)
        if name in after:
            after[name](p)
    p.add_argument(
        "--dist-timeout",
        type=_positive_int,
        default=1800,
        metavar="SECONDS",
        help="under torchrun: how long a process waits for the others before the job ends "
        "(default 1800; a process that dies ends it sooner)",
    )
    _add_config_options(p)


BY_NAME = {
    "test_path": "(or a shipped test set by name: paper-box-test, ...)",
    "init_from": "(or a shipped model by name: box, pong, ...)",
}
"""Options that take a shipped file by name (`_options.file_or_shipped`). The training
and validation files do not: the shipped data sets are the paper's test sets, kept for
scoring."""


def _add_option(p: argparse.ArgumentParser, name: str, option: Option) -> None:
    """The flag of a `TrainingOptions` field, from its `Option`: its value lands in
    `args.<field name>`, its range checked as it is parsed. Paths stay as typed (the
    options make them paths), so that messages name a file as the user did."""
    kind, help_text = value_type(name), option.help or None
    if not option.flag.startswith("-"):  # the positional training files
        p.add_argument(name, metavar=option.flag, nargs="+", help=help_text)
    elif kind is bool:
        p.add_argument(option.flag, dest=name, action="store_true", help=help_text)
    else:
        metavar = option.metavar
        if metavar is None and not option.choices:  # as argparse names it
            metavar = option.flag.lstrip("-").upper().replace("-", "_")
        parse = _options.whole_number(option.minimum or 0, option.maximum) if kind is int else None
        if name in BY_NAME:
            parse, help_text = _options.file_or_shipped, f"{help_text} {BY_NAME[name]}"
        p.add_argument(
            option.flag,
            dest=name,
            type=None if option.choices else parse,
            choices=option.choices or None,
            default=default_of(name),
            required=option.required,
            metavar=metavar,
            help=help_text,
        )


def _add_overwrite(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in --out: its files move to OUT.replaced-DATE-TIME (never "
        "deleted); without this or --resume, a folder that holds a run is refused",
    )


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config option as KEY=VALUE, e.g. --set K=5: the same as --K 5 (repeatable)",
    )


_CONFIG_PREFIX = "config_"


def _add_config_options(p: argparse.ArgumentParser) -> None:
    """One flag per KVAEConfig option (--K 5, --init-lr 0.003), ranges checked as parsed."""
    import dataclasses

    from model.config import KVAEConfig, value_problem
    from model.config_help import CONFIG_HELP

    group = p.add_argument_group(
        "model and schedule options (KVAEConfig; default: the paper's; with --resume or "
        "--init-from only the schedule may change)"
    )
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(KVAEConfig)
        if f.name != "num_epochs"  # --epochs
    }
    add_field_options(
        group,
        defaults,
        lambda name: f"{CONFIG_HELP.get(name, name)} (default {show_text(defaults[name])})",
        _CONFIG_PREFIX,
        value_problem,
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Lock the run folder, refusing it up front if it cannot take the run; then train."""
    from model.run_folder import RunFolder, RunFolderError

    folder = RunFolder(args.run_dir) if _rank() == 0 else None
    try:
        if folder is not None:
            folder.acquire(resume=args.resume, overwrite=args.overwrite)
    except RunFolderError as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    try:
        return _run(args, folder)
    finally:
        if folder is not None:
            folder.release()


def _run(args: argparse.Namespace, folder) -> int:
    from kvae_studio.services.training import check_training_data, load_training_data
    from model.config import KVAEConfig, parse_assignments
    from model.data import DatasetError
    from model.model_file import ModelFileError
    from model.training import TrainingError

    try:
        data = load_training_data(args.train_paths, args.test_path, args.validation_path)
        # Typed end to end: --set's text read once, the config flags already typed.
        changes = {**parse_assignments(args.overrides), **given_fields(args, _CONFIG_PREFIX)}
        config = KVAEConfig(frame_size=data.train.shape[-1]).with_changes(changes)
        options = _training_options(args, config, changes)
        check_training_data(options, data, roles=OPTION_ROLES)
    except (DatasetError, ValueError) as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    import torch

    from model.distributed import LostProcess, launched
    from model.training import pick_device

    try:
        device = pick_device(args.device)
    except TrainingError as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    if folder is not None:  # the inputs are good: only now may an old run move aside
        folder.make_room()
        for note in folder.notes:
            print(note, file=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        with launched(device, args.dist_timeout) as processes:
            if processes.distributed:
                signal.signal(signal.SIGTERM, _terminated)
            try:
                return _train(args, processes, options, data)
            except _Terminated:  # said before the process group is taken down
                if processes.writer:
                    print(
                        "\nerror: torchrun ended the job: another of its processes failed "
                        "(its report below names it) or the job was told to stop; continue "
                        "from the last checkpoint with: kvae-studio train ... --out "
                        f"{args.run_dir} --resume",
                        file=sys.stderr,
                    )
                return 128 + signal.SIGTERM
            finally:  # a SIGTERM while the process exits is no news
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (TrainingError, ModelFileError, LostProcess) as err:
        print(f"\n{_rank_prefix()}error: {shown(err)}", file=sys.stderr)
        return 1
    except OSError as err:  # a full disk, say: the last complete checkpoint stays whole
        where = f" ({shown(err.filename)})" if err.filename else ""
        kept = (
            f"; continue from the last checkpoint with: kvae-studio train ... --out "
            f"{shown(args.run_dir)} --resume"
            if (Path(args.run_dir) / RESUME_FILE).is_file()
            else "; no checkpoint was written"
        )
        print(
            f"\n{_rank_prefix()}error: {shown(err.strerror or err)}{where}{kept}", file=sys.stderr
        )
        return 1


class _Terminated(Exception):
    """SIGTERM under torchrun: its agent ends every process when one fails."""


def _terminated(signum, frame) -> None:
    raise _Terminated


def _train(args, processes, options, data) -> int:
    """Train in this process (one of several under torchrun); its exit code: 2 when the
    run's inputs are refused before it starts (a model or run folder that cannot be used,
    options that do not go together), 1 when training fails."""
    from kvae_studio.services.run_records import write_studio_file
    from kvae_studio.services.training import build_trainer, training_events
    from model.model_file import ModelFileError
    from model.training import TrainingError

    trainer = None
    try:
        try:
            trainer = build_trainer(options, data, processes)
        except (TrainingError, ModelFileError) as err:
            print(f"{_rank_prefix()}error: {shown(err)}", file=sys.stderr)
            return 2
        if not processes.writer:  # rank 0 speaks for the job
            for _ in training_events(trainer):
                pass
            return 0
        write_studio_file(options)
        return _drive(trainer)
    except KeyboardInterrupt:
        if trainer is None:  # interrupted while the Trainer was being built
            print("\ninterrupted before training started", file=sys.stderr)
            return 130
        trainer.stop()
        for _ in trainer.run():
            pass
        if processes.writer:
            print(
                f"\nstopped; resume with: kvae-studio train ... --out {args.run_dir} --resume",
                file=sys.stderr,
            )
        return 130


def _rank() -> int:
    """This process's rank under torchrun (0 alone), known before the process group starts:
    only rank 0 may lock, check for writing, or move aside the run folder."""
    import os

    return int(os.environ.get("RANK", "0")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else 0


OPTION_ROLES = {"test": "--test", "validation": "--validation"}  # in error messages


def _training_options(
    args: argparse.Namespace, config: KVAEConfig, changes: dict[str, Any]
) -> TrainingOptions:
    """The parsed flags as the run's options (the Train tab builds the same from its
    fields); `changes` to the config apply to a run that brings its own too."""
    values = {name: getattr(args, name) for name in flagged_fields()}
    brings_config = args.resume or args.init_from is not None
    return TrainingOptions(
        **values, config=config, schedule_changes=changes if brings_config else {}
    )


def _rank_prefix() -> str:
    """'rank N: ' in a process that torchrun started other than rank 0, else ''."""
    return f"rank {_rank()}: " if _rank() else ""


def _drive(trainer) -> int:
    from kvae_studio.services.training import training_events

    world = trainer.processes.world_size
    print(
        f"training on {trainer.device} in {trainer.precision} ({trainer.precision_reason})"
        + (f", {world} processes" if world > 1 else "")
        + f": {len(trainer.train)} sequences, "
        f"{trainer.config.num_epochs} epoch{'' if trainer.config.num_epochs == 1 else 's'}, "
        f"from epoch {trainer.epoch + 1}",
        file=sys.stderr,
    )
    for note in trainer.notes:
        print(note, file=sys.stderr)
    tty = on_terminal()
    started = time.perf_counter()
    bar = None
    for event in training_events(trainer):
        if isinstance(event, StepReport):
            t = event.terms
            line = (
                f"epoch {event.epoch} [{event.batch}/{event.batches}] {event.phase:9s} "
                f"elbo {t['elbo']:9.2f}  {event.sequences_per_second:5.0f} seq/s"
                + ("  (skipped: non-finite)" if event.skipped else "")
            )
            if tty:  # a bar per epoch; in a log, the epoch's last batch only
                if bar is None:
                    bar = progress_bar(f"epoch {event.epoch}", event.batches, "batch", leave=False)
                bar.set_postfix_str(line.split("] ", 1)[1], refresh=False)
                bar.update(event.batch - bar.n)
            elif event.batch == event.batches:
                print(line, file=sys.stderr)
            continue
        if bar is not None:
            bar.close()
            bar = None
        if isinstance(event, EpochReport):
            print(epoch_line(event), file=sys.stderr)
        else:
            epochs = f"{event.epoch} epoch{'' if event.epoch == 1 else 's'}"
            print(
                f"{event.reason} after {epochs}, {event.step} steps in "
                f"{time.perf_counter() - started:.0f} s; model: {event.checkpoint}",
                file=sys.stderr,
            )
    return 0


def epoch_line(event: Any) -> str:
    """'Epoch 3/12 (all), train ELBO -6.22, validation smoothing 0.0194 (best at epoch 3),
    152 s': what was not measured (no test set, no validation) is left out."""
    parts = [f"Epoch {event.epoch}/{event.epochs} ({event.phase})"]
    parts.append(f"train ELBO {event.train_elbo:.2f}")
    if event.test_elbo is not None:
        parts.append(f"test ELBO {event.test_elbo:.2f}")
    if h := event.hamming:
        parts.append(
            f"hamming smooth {h['smoothing']:.4f} filter {h['filtering']:.4f} "
            f"gen {h['generation']:.4f} base {h['baseline']:.4f}"
        )
    if v := event.validation:
        parts.append(f"validation {v['metric']} {v['score']:.4f} (best at epoch {v['best_epoch']})")
    parts.append(f"{event.seconds:.0f} s")
    return ", ".join(parts)
