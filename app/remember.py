""" "Remember me on this workstation": the user's key-encryption key in the OS keyring.

Only a real secret store qualifies: with the fail, null or plaintext backends (headless
Linux, CI, PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring) the option is not
offered. Every call runs in a daemon thread with a timeout, because a keyring that does
not answer (a locked Secret Service, say) must not hang start-up.
"""

import base64
import contextlib
import threading
from collections.abc import Callable

SERVICE = "certdesk"
TIMEOUT_S = 3.0
_UNSAFE_MARKERS = ("fail", "null", "plaintext", "uncrypted", "unencrypted")

_usable: bool | None = None


class _TimedOut(Exception):
    pass


def _call(fn: Callable, *args):
    box: dict = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="certdesk-keyring", daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    if worker.is_alive():
        raise _TimedOut
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _is_safe_backend(backend) -> bool:
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    if any(marker in name for marker in _UNSAFE_MARKERS):
        return False
    try:
        return backend.priority > 0
    except Exception:
        return False


def _probe() -> bool:
    import keyring
    from keyring.backends.chainer import ChainerBackend

    backend = keyring.get_keyring()
    if isinstance(backend, ChainerBackend):
        return bool(backend.backends) and all(_is_safe_backend(b) for b in backend.backends)
    return _is_safe_backend(backend)


def available() -> bool:
    """Whether a real secret store answers; asked once per process."""
    global _usable
    if _usable is None:
        try:
            _usable = bool(_call(_probe))
        except Exception:
            _usable = False
    return _usable


def reset() -> None:
    """Forget the cached answer (tests switch backends)."""
    global _usable
    _usable = None


def _account(store_id: str, user: str) -> str:
    return f"{store_id}:{user}"


def remember(store_id: str, user: str, kek: bytes) -> bool:
    if not available():
        return False
    import keyring

    secret = base64.b64encode(kek).decode("ascii")
    try:
        _call(keyring.set_password, SERVICE, _account(store_id, user), secret)
        return True
    except Exception:
        return False


def recall(store_id: str, user: str) -> bytes | None:
    if not available():
        return None
    import keyring

    try:
        secret = _call(keyring.get_password, SERVICE, _account(store_id, user))
        return base64.b64decode(secret) if secret else None
    except Exception:
        return None


def forget(store_id: str, user: str) -> None:
    if not available():
        return
    import keyring

    with contextlib.suppress(Exception):
        _call(keyring.delete_password, SERVICE, _account(store_id, user))
