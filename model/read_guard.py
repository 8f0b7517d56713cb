"""One reading guard for every file the studio opens: what a file can make its reader
raise, stated once, and the one line each becomes.

Why: each kind of file has its own error type with a one-line message (`DatasetError`,
`ModelFileError`, `SessionError`), but the libraries under the readers raise more than
the ValueError and OSError a reader expects. zipfile raises RuntimeError for an entry
flagged encrypted; numpy TypeError for a structured dtype; json RecursionError for
nesting deeper than Python's stack, and a float of infinity for ``1e999``, which becomes
OverflowError where it is made an int; numpy MemoryError for a shape a header forged; the
Kalman filter LinAlgError for weights that make a matrix singular. A reader that listed
its own exceptions missed some (issue 26): here they are listed once, and every reader
turns them into its file type's error, so that the command line prints one line (exit
code 2) and the window shows one message, whichever way the file was opened.

Standard library only: `model.model_file` and `model.config` use it and stay free of
numpy and torch (numpy's LinAlgError is a ValueError, torch's a RuntimeError).
"""

from __future__ import annotations

import json
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

UNREADABLE: tuple[type[BaseException], ...] = (
    OSError,  # the file system; EOFError below for a file cut short
    EOFError,
    ValueError,  # malformed text, JSON, numbers; UnicodeDecodeError; numpy's LinAlgError
    LookupError,  # a key or index a file lacks
    TypeError,  # a value of the wrong type; numpy's structured dtypes
    ArithmeticError,  # OverflowError: 1e999 made an int
    RuntimeError,  # an encrypted zip entry; RecursionError; torch's LinAlgError
    MemoryError,  # a declared size larger than memory
    zipfile.BadZipFile,
    zlib.error,
    SyntaxError,  # an array header that is not a Python literal (numpy's literal_eval)
    tokenize.TokenError,  # the same, cut mid-bracket (numpy's header filter tokenizes it)
)
"""Every exception class a file's contents can make a reader raise."""


def reason(err: BaseException) -> str:
    """What went wrong, in one line a user can read."""
    if isinstance(err, RecursionError):
        return "nested too deeply to read"
    if isinstance(err, OverflowError):
        return "a number too large to use, such as 1e999"
    if isinstance(err, MemoryError):
        return "it declares more data than there is memory for"
    if isinstance(err, (SyntaxError, tokenize.TokenError)):
        return "a header that is not a valid description of an array (damaged bytes?)"
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 text (byte {err.start})"
    if type(err).__name__ in ("LinAlgError", "_LinAlgError"):
        where = first_line(err).split(":")[0].strip()
        return f"its weights give the Kalman filter a matrix it cannot factorise ({where})"
    return first_line(err)


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


@contextmanager
def reading(
    subject: Any,
    error: type[Exception],
    what: str = "cannot be read",
    also: tuple[type[BaseException], ...] = (),
    catch: tuple[type[BaseException], ...] = UNREADABLE,
) -> Iterator[None]:
    """Raise `error` ("<subject>: <what> (<reason>)") for whatever the reader inside
    raises of `catch` (by default `UNREADABLE`) and `also` (a library's own error class);
    `error` itself, a reader's own one-line message, passes unchanged. A computation that
    a file's contents can break narrows `catch` to what they can make it raise."""
    try:
        yield
    except error:
        raise
    except (*catch, *also) as err:
        raise error(f"{subject}: {what} ({reason(err)})") from None


def parse_json(text: str | bytes) -> Any:
    """`json.loads`, where nesting too deep for Python's stack is a ValueError like any
    other malformed JSON, so that a reader's ``except ValueError`` holds."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None
