"""Passwords and PINs as the bytes a key derivation takes.

A value from the environment or the command line that is not UTF-8 reaches Python with
its odd bytes as surrogates; `surrogateescape` gives back exactly the bytes the user
gave, where strict UTF-8 would fail. Valid text encodes as plain UTF-8, so the same
password typed in the console and given in the environment derive the same key.
"""


def secret_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")
