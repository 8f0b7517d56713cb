"""Helpers of the bad-input tests (issue 12): run many command lines in one subprocess.

Each case is a real `kvae-studio` command line, run by `kvae_studio.cli.main` in a fresh
interpreter as the console script runs it; a whole table of cases shares one interpreter,
so a test module pays for one start-up (and one torch import) instead of one per case.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

_RUNNER = """
import contextlib, io, json, sys, traceback
from kvae_studio.cli import main
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    except SystemExit as exit:
        code = exit.code
    except BaseException:
        code = "uncaught"
        err.write(traceback.format_exc())
    compiler = sorted({"sympy", "torch._dynamo"} & set(sys.modules))
    results.append(
        {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "compiler": compiler}
    )
print(json.dumps(results))
"""


def run_many(cases: list[list[str]], cwd: str | os.PathLike | None = None) -> list[dict]:
    """Exit code, stdout and stderr of each command line, run in order in one interpreter,
    and `compiler`: which of sympy and torch._dynamo (seconds to import) were loaded by then."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def kvae_studio(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """One real `python -m kvae_studio ...` process."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "kvae_studio", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


def kvae_studio_ok(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """One real `python -m kvae_studio ...` process that must succeed (exit 0)."""
    result = kvae_studio(*args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result


def assert_one_clear_line(result: dict | subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, no traceback, and one line on stderr that holds every word."""
    code = result["code"] if isinstance(result, dict) else result.returncode
    err = result["stderr"] if isinstance(result, dict) else result.stderr
    assert "Traceback" not in err, err
    assert code == 2, (code, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], (word, lines[0])


def digests(folder: str | os.PathLike) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) by relative path -> SHA-256."""
    folder = Path(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
