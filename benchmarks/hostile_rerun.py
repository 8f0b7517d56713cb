"""Issue 26's hostile re-run: hundreds of damaged files and bad options, each given to the
real command line as a user would, and the share handled cleanly.

Clean means: the command ends by itself (no hang past the time limit, no kill by the
kernel); it succeeds where the damage left a usable file (rc 0, no traceback), or it
refuses with exit code 1 or 2 and one error line ("error: ..." or argparse's
"kvae-studio X: error: ..."), no traceback; the input file is byte for byte as before;
nothing half-written is left (no `.tmp` file, no output of a refused command).

The files are tiny (16-pixel frames, a small model). Cases run 25 to an interpreter,
each through `kvae_studio.cli.main` exactly as the console script calls it (one torch
import per batch instead of one per case: 650 cases in minutes, not an hour); a batch
that dies or hangs has the cases it did not finish run again one process each, so a
crash or a kill is judged as that case's own. Damage is made by seeded byte flips,
truncations and zeroed blocks of each kind of file, by crafted contents (wrong dtypes
and shapes, NaN, JSON nested or holding 1e999, headers declaring terabytes, encrypted
zip entries), and by paths that are not files. Not here: `simulate --sequences 100000
--size 1024`, a valid request that runs for hours in bounded memory where the disk can
hold it and is refused in one line where it cannot (tests/test_simulate_limits.py).

    python benchmarks/hostile_rerun.py [--limit N] [--only TEXT] [--csv OUT]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' hostile file writers, shared

import hostile_files as hostile  # noqa: E402

from model.sequence_writer import SCENE_KEY  # noqa: E402

TIME_LIMIT_S = 180


@dataclass
class Case:
    name: str
    argv: list[str]
    inputs: list[Path]
    outputs: list[Path]  # must not exist after a refusal
    inputs_change_on_success: bool = False  # a resumed run folder is its own output


# --------------------------------------------------------------------- base files


def base_files(folder: Path) -> dict[str, Path]:
    """A good dataset, model, session and run folder for the damage to start from."""
    from model.data import save_sequences

    folder.mkdir(parents=True)
    data = folder / "good.npz"
    save_sequences(data, hostile.sequences(4, 20, 16))
    model = hostile.model_file(folder / "good.safetensors")
    session = hostile.session_file(folder / "good.session.npz")
    run = folder / "good-run"
    subprocess.run(
        [*KVAE, "train", str(data), "--out", str(run), "--epochs", "2", "--threads", "1",
         "--frame-size", "16", "--set", "filters=4,4", "--set", "alpha_units=8",
         "--set", "batch_size=4", "--precision", "fp32"],
        check=True, capture_output=True,
    )  # fmt: skip
    return {"data": data, "model": model, "session": session, "run": run}


KVAE = [sys.executable, "-m", "kvae_studio"]


def run_group(argv: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run` with the command and whatever it starts (work processes) in a
    process group of their own, killed whole at the time limit or when this script is
    interrupted: killing only the direct child left its children running."""
    import contextlib
    import signal

    with subprocess.Popen(argv, start_new_session=True, **kwargs) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException as stop:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            if isinstance(stop, subprocess.TimeoutExpired):
                raise subprocess.TimeoutExpired(argv, timeout, out, err) from None
            raise
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


# --------------------------------------------------------------------- damage


def byte_damage(good: Path, folder: Path, stem: str, suffix: str, seeds: int) -> list[Path]:
    """Truncations, flipped bytes, zeroed blocks, garbage appended, other contents."""
    data = good.read_bytes()
    made: dict[str, bytes] = {
        "empty": b"",
        "text": b"hello, this is not a file of this kind\n",
        "nul-bytes": b"\0" * 4096,
        "appended-garbage": data + os.urandom(999),
        "doubled": data + data,
    }
    for share in (1, 8, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        cut = share if isinstance(share, int) else int(len(data) * share)
        made[f"truncated-{share}"] = data[:cut]
    made["truncated-last-byte"] = data[:-1]
    rng = random.Random(stem)
    for seed in range(seeds):
        flipped = bytearray(data)
        for _ in range(16):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        made[f"flipped-{seed}"] = bytes(flipped)
    for seed in range(seeds // 2):
        zeroed = bytearray(data)
        start = rng.randrange(max(len(data) - 256, 1))
        zeroed[start : start + 256] = bytes(min(256, len(data) - start))
        made[f"zeroed-{seed}"] = bytes(zeroed)
    paths = []
    for name, content in made.items():
        path = folder / f"{stem}-{name}{suffix}"
        path.write_bytes(content)
        paths.append(path)
    return paths


SCENE_1E999 = '{"scene": "box", "parameters": {"size": 1e999}}'
LATIN1 = b'{"scene": "b\xe9"}'


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def crafted_data(folder: Path) -> list[Path]:
    """Data sets whose zip is whole but whose contents are wrong."""
    s = hostile.sequences(4, 20, 16)
    f = folder
    made = [
        _npz(f / "d-int64.npz", images=s.astype(np.int64)),
        _npz(f / "d-bool.npz", images=s.astype(bool)),
        _npz(f / "d-complex.npz", images=s.astype(np.complex64)),
        _npz(f / "d-float16.npz", images=s.astype(np.float16)),
        _npz(f / "d-3d.npz", images=s[0]),
        _npz(f / "d-5d.npz", images=s[:, :, None]),
        _npz(f / "d-1d.npz", images=s.ravel()),
        _npz(f / "d-scalar.npz", images=np.float32(1)),
        _npz(f / "d-no-sequences.npz", images=s[:0]),
        _npz(f / "d-one-step.npz", images=s[:, :1]),
        _npz(f / "d-zero-size-frames.npz", images=np.zeros((4, 20, 0, 0), np.float32)),
        _npz(f / "d-not-square.npz", images=np.zeros((4, 20, 16, 12), np.float32)),
        _npz(f / "d-other-size.npz", images=np.zeros((4, 20, 24, 24), np.float32)),
        _npz(f / "d-nan.npz", images=np.where(s > 0, np.nan, 0).astype(np.float32)),
        _npz(f / "d-inf.npz", images=np.where(s > 0, np.inf, 0).astype(np.float32)),
        _npz(f / "d-255.npz", images=(s * 255).astype(np.float32)),
        _npz(f / "d-negative.npz", images=-s),
        _npz(f / "d-uint8.npz", images=(s * 255).astype(np.uint8)),
        _npz(f / "d-no-images.npz", frames=s),
        _npz(f / "d-state-wrong.npz", images=s, state=np.zeros((3, 2))),
        _npz(f / "d-state-strings.npz", images=s, state=np.array(["a", "b"])),
        _npz(f / "d-object.npz", images=np.array([s, "x"], dtype=object)),
        hostile.structured_dataset(f / "d-structured.npz"),
        hostile.encrypted_dataset(f / "d-encrypted.npz"),
        _npz(f / "d-scene-nested.npz", images=s, **{SCENE_KEY: np.array(hostile.DEEP)}),
        _npz(f / "d-scene-1e999.npz", images=s, **{SCENE_KEY: np.array(SCENE_1E999)}),
        _npz(f / "d-scene-latin1.npz", images=s, **{SCENE_KEY: np.frombuffer(LATIN1, np.uint8)}),
    ]
    made.append(_declaring_terabytes(f / "d-terabytes.npz"))
    with zipfile.ZipFile(f / "d-plain-zip.npz", "w") as archive:
        archive.writestr("readme.txt", "a zip, not an npz")
    made.append(f / "d-plain-zip.npz")
    return made


def _declaring_terabytes(path: Path) -> Path:
    """A data set whose images header declares (99999999, 99999, 99) float32."""
    np.savez(path, images=np.zeros((20, 16, 16), np.float32))
    data = bytearray(path.read_bytes())
    real, forged = b"'shape': (20, 16, 16), }", b"'shape': (99999999, 99999, 99), }"
    start = data.find(real)
    end = data.find(b"\n", start)
    data[start:end] = forged + b" " * (end - start - len(forged))
    path.write_bytes(bytes(data))
    return path


ESCAPES = '{"note": "\\u001b[31mred"}'
LATIN1_HEADER = b'{"__metadata__": {"format": "\xe9"}}'


def crafted_models(folder: Path) -> list[Path]:
    f = folder
    good = json.loads(hostile.TINY.to_json())

    huge_filters = hostile.config_with_huge_filters()

    def config(**changes) -> str:
        return json.dumps({**good, **changes})

    made = [
        hostile.model_file(f / "m-zero.safetensors", scale=0.0),
        hostile.model_file(f / "m-huge.safetensors", scale=1e30),
        hostile.model_file(f / "m-nan.safetensors", scale=float("nan")),
        hostile.model_file(f / "m-inf.safetensors", scale=float("inf")),
        hostile.model_file(f / "m-negative.safetensors", scale=-1.0),
        hostile.model_file(f / "m-summary-nested.safetensors", summary=hostile.DEEP),
        hostile.model_file(f / "m-summary-list.safetensors", summary="[1, 2]"),
        hostile.model_file(f / "m-summary-1e999.safetensors", summary='{"epoch": 1e999}'),
        hostile.model_file(f / "m-summary-escape.safetensors", summary=ESCAPES),
        hostile.model_file(f / "m-config-nested.safetensors", config=hostile.DEEP),
        hostile.model_file(f / "m-config-text.safetensors", config="not json"),
        hostile.model_file(f / "m-config-1e999.safetensors", config=huge_filters),
        hostile.model_file(f / "m-config-K0.safetensors", config=config(K=0)),
        hostile.model_file(f / "m-config-K-neg.safetensors", config=config(K=-3)),
        hostile.model_file(f / "m-config-K-text.safetensors", config=config(K="three")),
        hostile.model_file(f / "m-config-K-float.safetensors", config=config(K=2.5)),
        hostile.model_file(f / "m-config-size-odd.safetensors", config=config(frame_size=17)),
        hostile.model_file(f / "m-config-dim-a-big.safetensors", config=config(dim_a=10**9)),
        hostile.model_file(f / "m-config-filters-empty.safetensors", config=config(filters=[])),
        hostile.model_file(f / "m-config-unknown-key.safetensors", config=config(colour="blue")),
        hostile.model_file(f / "m-config-missing-key.safetensors", config=json.dumps({"K": 3})),
        hostile.model_file(f / "m-config-list.safetensors", config="[3]"),
        hostile.model_file(f / "m-header-text.safetensors", header=b"not json at all"),
        hostile.model_file(f / "m-header-nested.safetensors", header=hostile.DEEP.encode()),
        hostile.model_file(f / "m-header-empty.safetensors", header=b"{}"),
        hostile.model_file(f / "m-header-latin1.safetensors", header=LATIN1_HEADER),
    ]
    # the wrong format line and a header declaring a length beyond the file
    text = (f / "m-zero.safetensors").read_bytes()
    (f / "m-header-length.safetensors").write_bytes((2**62).to_bytes(8, "little") + text[8:])
    made.append(f / "m-header-length.safetensors")
    return made


def paths_that_are_not_files(folder: Path) -> list[Path]:
    (folder / "a-folder.npz").mkdir()
    (folder / "dangling.npz").symlink_to(folder / "nowhere.npz")
    (folder / "loop.npz").symlink_to(folder / "loop.npz")
    return [folder / "missing.npz", folder / "a-folder.npz", folder / "dangling.npz",
            folder / "loop.npz", Path("/dev/null")]  # fmt: skip


# --------------------------------------------------------------------- cases


Commands = list[tuple[list[str], list[Path]]]  # (arguments, outputs a refusal must not leave)


def data_commands(data: Path, model: Path, out: Path, good_data: Path) -> Commands:
    d, m = str(data), str(model)
    return [
        (["info", d], []),
        (["evaluate", m, d, "--sequences", "2"], []),
        (["export", m, d, "--sequence", "0", "--out", str(out / "v.gif")], [out / "v.gif"]),
        (["inspect", m, d, "--out", str(out / "inspect"), "--sequences", "2"], [out / "inspect"]),
        (["train", str(good_data), "--validation", d, "--out", str(out / "run"), "--epochs", "1",
          "--frame-size", "16", "--set", "filters=4,4", "--set", "batch_size=4",
          "--threads", "1"], [out / "run"]),
    ]  # fmt: skip


def model_commands(model: Path, data: Path, out: Path) -> Commands:
    d, m = str(data), str(model)
    return [
        (["info", m], []),
        (["evaluate", m, d, "--sequences", "2"], []),
        (["export", m, d, "--sequence", "0", "--out", str(out / "v.gif")], [out / "v.gif"]),
        (["inspect", m, d, "--out", str(out / "inspect"), "--sequences", "2"], [out / "inspect"]),
    ]


BAD_OPTIONS = [
    ["simulate", "box", "--sequences", "0"],
    ["simulate", "box", "--sequences", "nan"],
    ["simulate", "box", "--sequences", "1e9"],
    ["simulate", "box", "--steps", "-5"],
    ["simulate", "box", "--size", "3"],
    ["simulate", "box", "--size", "100000"],
    ["simulate", "box", "--dt", "0"],
    ["simulate", "box", "--dt", "inf"],
    ["simulate", "box", "--ball-radius", "50"],
    ["simulate", "box", "--ball-radius", "-1"],
    ["simulate", "box", "--speed-min", "9", "--speed-max", "1"],
    ["simulate", "box", "--walls", "1,2 3"],
    ["simulate", "box", "--walls", "nonsense"],
    ["simulate", "box", "--gravity-y", "1e999"],
    ["simulate", "box", "--substeps", "0"],
    ["simulate", "spheres"],
    ["simulate", "box", "--out", "{out}"],
    ["simulate", "box", "--out", "/proc/forbidden.npz"],
    ["simulate", "box", "--out", "{out}/no/such/folder/x.npz"],
    ["info"],
    ["evaluate", "{model}"],
    ["evaluate", "{model}", "{data}", "--drop-prob", "2"],
    ["evaluate", "{model}", "{data}", "--drop-prob", "nan"],
    ["evaluate", "{model}", "{data}", "--sequences", "-1"],
    ["evaluate", "{model}", "{data}", "--mask", "square"],
    ["evaluate", "{model}", "{data}", "--device", "tpu"],
    ["evaluate", "{model}", "{data}", "--sweep", "{out}"],
    ["export", "{model}", "{data}", "--sequence", "99", "--out", "{out}/v.gif"],
    ["export", "{model}", "{data}", "--sequence", "-1", "--out", "{out}/v.gif"],
    ["export", "{model}", "{data}", "--sequence", "0", "--out", "{out}/v.bmp"],
    ["export", "{model}", "{data}", "--sequence", "0", "--fps", "0", "--out", "{out}/v.gif"],
    ["export", "{model}", "{data}", "--sequence", "0", "--scale", "0", "--out", "{out}/v.gif"],
    ["export", "{model}", "{data}", "--sequence", "0", "--steps", "100000", "--out", "{out}/v.gif"],
    ["export", "{model}", "{data}", "--sequence", "0", "--views", "none", "--out", "{out}/v.gif"],
    ["export", "{model}", "{data}", "--sequence", "0", "--out", "{out}"],
    ["inspect", "{model}", "{data}", "--out", "{out}/i", "--steps", "0"],
    ["inspect", "{model}", "{data}", "--out", "{out}/i", "--samples", "-2"],
    ["inspect", "{model}", "{data}", "--out", "{model}"],
    ["train", "{data}", "--out", "{out}/r", "--epochs", "0"],
    ["train", "{data}", "--out", "{out}/r", "--epochs", "-1"],
    ["train", "{data}", "--out", "{out}/r", "--set", "K=0"],
    ["train", "{data}", "--out", "{out}/r", "--set", "K"],
    ["train", "{data}", "--out", "{out}/r", "--set", "colour=blue"],
    ["train", "{data}", "--out", "{out}/r", "--set", "learning_rate=nan"],
    ["train", "{data}", "--out", "{out}/r", "--frame-size", "32"],
    ["train", "{data}", "--out", "{out}/r", "--threads", "0"],
    ["train", "{data}", "--out", "{out}/r", "--keep-best", "accuracy"],
    ["train", "{data}", "--out", "{out}/r", "--keep-best", "smoothing"],
    ["train", "{data}", "--out", "{out}/r", "--patience", "3"],
    ["train", "{data}", "--out", "{out}/r", "--resume"],
    ["train", "{data}", "--out", "{run}"],
    ["train", "{data}", "--out", "{out}/r", "--init-from", "{data}"],
    ["train", "{data}", "--out", "{out}/r", "--precision", "fp8"],
    ["train", "{data}", "--out", "{out}/r", "--checkpoint-every", "0"],
    ["train", "{data}", "--out", "{out}/r", "--dist-timeout", "-1"],
]


def resume_cases(run: Path, data: Path, folder: Path) -> list[Case]:
    """A run folder with one of its files damaged, resumed."""
    cases = []
    for name in ("resume.safetensors", "model.safetensors", "log.jsonl", "studio.json"):
        original = run / name
        if not original.exists():
            continue
        for damaged in byte_damage(original, folder / "resume-parts", name.replace(".", "-"),
                                   "", seeds=2)[:12]:  # fmt: skip
            copy = folder / f"run-{damaged.name}"
            shutil.copytree(run, copy)
            shutil.copyfile(damaged, copy / name)
            argv = ["train", str(data), "--out", str(copy), "--resume", "--epochs", "3",
                    "--threads", "1", "--precision", "fp32"]  # fmt: skip
            case = Case(f"resume {name} {damaged.name}", argv, [copy / name], [], True)
            cases.append(case)
    return cases


def all_cases(folder: Path) -> list[Case]:
    base = base_files(folder / "base")
    damaged = folder / "damaged"
    damaged.mkdir()
    (folder / "resume-parts").mkdir()
    out_root = folder / "out"
    cases: list[Case] = []

    def outputs_for(index: int) -> Path:
        out = out_root / f"{index:04d}"
        out.mkdir(parents=True)
        return out

    data_files = byte_damage(base["data"], damaged, "data", ".npz", seeds=8)
    data_files += crafted_data(damaged) + paths_that_are_not_files(damaged)
    for data in data_files:
        for argv, outputs in data_commands(data, base["model"], out_root / "X", base["data"]):
            cases.append(Case(f"data {data.name}: {argv[0]}", argv, [data], outputs))
    model_files = byte_damage(base["model"], damaged, "model", ".safetensors", seeds=8)
    model_files += crafted_models(damaged)
    for model in model_files:
        for argv, outputs in model_commands(model, base["data"], out_root / "X"):
            cases.append(Case(f"model {model.name}: {argv[0]}", argv, [model], outputs))
    session_files = byte_damage(base["session"], damaged, "session", ".session.npz", seeds=8)
    session_files += [
        hostile.session_file(damaged / "s-nested.session.npz", meta=hostile.DEEP),
        hostile.session_with_frame(damaged / "s-frame-1e999.session.npz", "1e999"),
        hostile.session_with_frame(damaged / "s-frame-neg.session.npz", "-5"),
        hostile.session_declaring_terabytes(damaged / "s-terabytes.session.npz"),
        hostile.encrypted_session(damaged / "s-encrypted.session.npz"),
        hostile.session_file(damaged / "s-text.session.npz", meta="not json"),
        hostile.session_file(damaged / "s-list.session.npz", meta="[1]"),
    ]
    for session in session_files:
        cases.append(Case(f"session {session.name}: info", ["info", str(session)], [session], []))
    cases += resume_cases(base["run"], base["data"], folder)
    for argv in BAD_OPTIONS:
        cases.append(Case("options " + " ".join(argv), argv, [base["data"], base["model"]], []))

    # Each case writes into its own output folder, named in its arguments.
    for index, case in enumerate(cases):
        out = outputs_for(index)
        swap = {"{out}": str(out), "{model}": str(base["model"]), "{data}": str(base["data"]),
                "{run}": str(base["run"])}  # fmt: skip
        argv = []
        for arg in case.argv:
            for key, value in swap.items():
                arg = arg.replace(key, value)
            argv.append(arg.replace(str(out_root / "X"), str(out)))
        case.argv = argv
        case.outputs = [Path(str(p).replace(str(out_root / "X"), str(out))) for p in case.outputs]
    return cases


# --------------------------------------------------------------------- judging


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def verdict(case: Case, folder: Path, rc, out: str, err: str, before: dict) -> tuple[bool, str]:
    """Whether one finished case was handled cleanly, and why not (or its last line)."""
    problems = []
    if rc == "uncaught":
        problems.append("uncaught: " + err.strip().splitlines()[-1][:200])
        rc = 1
    if rc is None:
        rc = 0
    if not isinstance(rc, int):  # sys.exit("text") prints the text and exits 1
        rc = 1
    if rc < 0:
        problems.append(f"killed by signal {-rc}")
    if "Traceback" in err or "Traceback" in out:
        problems.append("traceback: " + err.strip().splitlines()[-1][:200])
    if rc > 0:
        if rc not in (1, 2):
            problems.append(f"exit code {rc}")
        errors = [line for line in (err + out).splitlines() if "error:" in line]
        if len(errors) != 1:
            problems.append(f"{len(errors)} error lines: {(err + out).strip()[-200:]!r}")
        if any(Path(p).exists() for p in case.outputs):
            problems.append("output left by a refused command")
    for path, digest_before in before.items():
        if rc == 0 and case.inputs_change_on_success:
            break
        if digest(Path(path)) != digest_before:
            problems.append(f"{Path(path).name} changed")
    leftovers = list(folder.rglob("*.tmp*"))
    if leftovers:
        problems.append(f"left {leftovers[0].name}")
        for p in leftovers:
            p.unlink(missing_ok=True)
    last = (err or out).strip().splitlines()[-1][:160] if (err or out).strip() else ""
    return not problems, "; ".join(problems) or last


def judge_alone(case: Case, folder: Path) -> tuple[bool, str, object, float]:
    """One case in a process of its own, as a user runs it."""
    before = {str(p): digest(p) for p in case.inputs}
    start = time.perf_counter()
    try:
        done = run_group(
            [*KVAE, *case.argv], TIME_LIMIT_S, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", cwd=folder, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False, f"no end within {TIME_LIMIT_S} s", -1, TIME_LIMIT_S
    ok, why = verdict(case, folder, done.returncode, done.stdout, done.stderr, before)
    return ok, why, done.returncode, time.perf_counter() - start


def run_in_child(batch_file: str) -> None:
    """Child mode: run a batch of cases through `kvae_studio.cli.main` in this one
    interpreter (one start-up for the batch), one JSON line per case as it ends."""
    import contextlib
    import io
    import traceback

    from kvae_studio.cli import main as cli_main

    batch = json.loads(Path(batch_file).read_text())
    folder = Path(batch["folder"])
    for item in batch["cases"]:
        case = Case(item["name"], item["argv"], [Path(p) for p in item["inputs"]],
                    [Path(p) for p in item["outputs"]], item["changing"])  # fmt: skip
        before = {str(p): digest(p) for p in case.inputs}
        out, err = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        cwd = os.getcwd()
        try:
            os.chdir(folder)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = cli_main(case.argv)
        except SystemExit as exit:
            rc = exit.code
        except BaseException:
            rc = "uncaught"
            err.write(traceback.format_exc())
        finally:
            os.chdir(cwd)
        ok, why = verdict(case, folder, rc, out.getvalue(), err.getvalue(), before)
        row = {"case": case.name, "clean": ok, "rc": rc if isinstance(rc, int) else str(rc),
               "seconds": f"{time.perf_counter() - start:.1f}", "why": why}  # fmt: skip
        print(json.dumps(row), flush=True)


def judge_batch(cases: list[Case], folder: Path) -> list[dict]:
    """The cases in one interpreter; any the batch did not reach (a crash, a hang) run
    again alone, so that one case's death is judged as its own."""
    batch_file = folder / "batch.json"
    batch_file.write_text(json.dumps({"folder": str(folder), "cases": [
        {"name": c.name, "argv": c.argv, "inputs": [str(p) for p in c.inputs],
         "outputs": [str(p) for p in c.outputs], "changing": c.inputs_change_on_success}
        for c in cases]}))  # fmt: skip
    rows: list[dict] = []
    try:
        done = run_group(
            [sys.executable, __file__, "--child", str(batch_file)], TIME_LIMIT_S * 2,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            stdin=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="1"),
        )  # fmt: skip
        lines = done.stdout
    except subprocess.TimeoutExpired as timeout:
        out = timeout.stdout or ""  # what the batch printed before the limit
        lines = out.decode(errors="replace") if isinstance(out, bytes) else out
    for line in lines.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line a command wrote to the real stdout
    for case in cases[len(rows) :]:
        ok, why, rc, seconds = judge_alone(case, folder)
        rows.append({"case": case.name, "clean": ok, "rc": rc, "seconds": f"{seconds:.1f}",
                     "why": why + " (alone)"})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="run the first N cases only")
    parser.add_argument("--only", default="", help="cases whose name holds this text")
    parser.add_argument("--csv", type=Path, help="write every case's verdict here")
    parser.add_argument("--batch", type=int, default=25, help="cases per interpreter")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_in_child(args.child)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        cases = [c for c in all_cases(folder) if args.only in c.name]
        cases = cases[: args.limit] if args.limit else cases
        print(f"{len(cases)} cases in {folder}", flush=True)
        rows: list[dict] = []
        for first in range(0, len(cases), args.batch):
            batch = judge_batch(cases[first : first + args.batch], folder)
            rows += batch
            for row in batch:
                if not row["clean"]:
                    print(f"NOT CLEAN {row['case']}: {row['why']}", flush=True)
            print(f"{len(rows)}/{len(cases)}: {sum(r['clean'] for r in rows)} clean", flush=True)
        clean = sum(r["clean"] for r in rows)
        share = 100 * clean / max(len(cases), 1)
        print(f"clean: {clean} of {len(cases)} ({share:.1f} %)")
        if args.csv:
            with open(args.csv, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
