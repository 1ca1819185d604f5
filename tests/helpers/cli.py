"""Two ways to run `certdesk` for a test.

`run_in_process` calls `app.cli.main(args)` in the test process, as a `certdesk`
process would run it: the environment is exactly the given one, stdin is empty and no
terminal, stdout and stderr are UTF-8 streams with the error handlers a Python process
starts with, SystemExit becomes the exit code, and the keyring is the one the
environment names. The peewee database proxy and the cached keyring answer are put back
afterwards, so nothing of one call reaches the next or the test. It costs milliseconds
where a process costs half a second of Python starting.

`run_process` starts the real program (`python -m app`): for what only a process shows
(`--version` and exit codes through the interpreter, Qt never imported, argument and
environment bytes that are not UTF-8, reads that could block, concurrency, SIGKILL).

Both return a `subprocess.CompletedProcess` with text `stdout` and `stderr`.
"""

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.helpers.stores import PASSWORD


def cli_env(tmp_path: Path, store: Path, **extra: str) -> dict[str, str]:
    """The environment of a `certdesk` run: this test's own folders and store, the
    admin's credentials, the fail keyring; nothing of the developer's."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "CERTDESK_STORE": str(store),
        "CERTDESK_USER": "admin",
        "CERTDESK_PASSWORD": PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **extra,
    }


def one_line_error(result) -> str:
    """The one line a refusal prints on stderr (and no traceback)."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def run_process(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def _stream(errors: str) -> io.TextIOWrapper:
    # As Python's own stdio in UTF-8 mode (what a `certdesk` run without a locale gets).
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors)


def _text(stream: io.TextIOWrapper) -> str:
    """What `subprocess.run(..., text=True)` reads from the stream: strict UTF-8, with
    universal newlines."""
    stream.flush()
    data = stream.buffer.getvalue()
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict").read()


def _exit_code(exc: SystemExit, stderr) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=stderr)  # as the interpreter does with sys.exit("message")
    return 1


def run_in_process(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess:
    import keyring
    import keyring.core

    import models
    from app import cli, remember

    stdin, stdout = _stream("strict"), _stream("surrogateescape")
    stderr = _stream("backslashreplace")
    database = models.database.obj  # a store the test itself holds open
    backend = keyring.get_keyring()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name not in env:
                    patch.delenv(name)
            for name, value in env.items():
                patch.setenv(name, value)
            patch.setattr(sys, "stdin", stdin)
            patch.setattr(sys, "stdout", stdout)
            patch.setattr(sys, "stderr", stderr)
            if (named := keyring.core.load_env()) is not None:
                keyring.set_keyring(named)
            remember.reset()
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse: --help, --version, bad usage
                code = _exit_code(exc, stderr)
    finally:
        opened = models.database.obj
        if opened is not None and opened is not database and not opened.is_closed():
            opened.close()  # a command that left its store open: a process would end here
        models.database.initialize(database)
        keyring.set_keyring(backend)
        remember.reset()
    return subprocess.CompletedProcess(["certdesk", *args], code, _text(stdout), _text(stderr))
