"""An edited or damaged `keyslots.json` is one clear line at once, never a crash, a
"wrong password", or an Argon2 run without end."""

import base64
import json
import shutil
import time

import pytest

from app.errors import CertdeskError
from app.services import users
from tests.helpers.stores import PASSWORD


def _slot(change):
    def edit(doc):
        change(doc["slots"]["admin"])
        return doc

    return edit


def _drop(field):
    return _slot(lambda slot: slot.pop(field))


def _set(field, value):
    return _slot(lambda slot: slot.__setitem__(field, value))


def _top(field, value):
    return lambda doc: doc | {field: value}


def _b64(size):
    return base64.b64encode(bytes(size)).decode()


WHOLE = "must be a whole number from"
# edit of the parsed file (or the bytes to write instead) → what the one line must say
# fmt: off
EDITS = {
    "not JSON": (b"{not json", "damaged (not JSON)"),
    "not UTF-8": (b'{"format": "\xff"}', "damaged (not JSON)"),
    "nested without end": (b"[" * 200_000, "damaged (not JSON)"),
    "a list, not an object": (b"[]", "damaged (the file must be a JSON object"),
    "huge": (b" " * (5 * 1024 * 1024) + b"{}", "damaged (too large"),
    "no format": (lambda doc: {k: v for k, v in doc.items() if k != "format"}, "'format'"),
    "another format": (_top("format", "x"), "format must be"),
    "unknown version": (_top("version", 3), "version 3; this Certdesk reads up to version 2"),
    "version as text": (_top("version", "2"), "version must be 1 or 2"),
    "version as a bool": (_top("version", True), "version must be 1 or 2"),
    "version 1 with key pairs": (_top("version", 1), "version 1 holds no slot with key pairs"),
    "no store_id": (lambda doc: {k: v for k, v in doc.items() if k != "store_id"}, "store_id"),
    "store_id not hex": (_top("store_id", "someone-else"), "store_id must be 32 hex"),
    "store_id a number": (_top("store_id", 7), "store_id must be 32 hex"),
    "an unknown field": (_top("extra", 1), "unknown field 'extra'"),
    "pending of no slot": (_top("pending", "nobody"), "pending must name one of the slots"),
    "pending a number": (_top("pending", 3), "pending must name one of the slots"),
    "slots a list": (_top("slots", []), "slots must be a JSON object"),
    "a slot a string": (_top("slots", {"admin": "x"}), "slot 'admin' must be a JSON object"),
    "an empty user name": (lambda doc: doc | {"slots": {"": doc["slots"]["admin"]}}, "user name"),
    **{
        f"no {field}": (_drop(field), f"lacks the field {field!r}")
        for field in ("kdf", "iterations", "lanes", "memory_kib", "salt", "nonce", "sealed",
                      "public", "master")
    },
    "an unknown slot field": (_set("pepper", "x"), "unknown field 'pepper'"),
    "kdf argon2i": (_set("kdf", "argon2i"), "kdf must be 'argon2id'"),
    "iterations as text": (_set("iterations", "3"), "iterations must be a whole number"),
    "lanes a bool": (_set("lanes", True), "lanes must be a whole number"),
    "memory a float": (_set("memory_kib", 1024.0), "memory_kib must be a whole number"),
    "iterations 1000000": (_set("iterations", 10**6), f"iterations {WHOLE} 1 to 10, not 1000000"),
    "iterations 0": (_set("iterations", 0), f"iterations {WHOLE} 1 to 10,"),
    "lanes 17": (_set("lanes", 17), f"lanes {WHOLE} 1 to 16,"),
    "memory 1 TiB": (_set("memory_kib", 2**30), f"memory_kib {WHOLE} 8 to 1,048,576,"),
    "memory below 8 KiB a lane": (_set("memory_kib", 7), f"memory_kib {WHOLE} 8 to"),
    "a huge number": (_set("iterations", 10**4000), "iterations must be a whole number"),
    "salt a number": (_set("salt", 123), "salt must be base64 text"),
    "nonce null": (_set("nonce", None), "nonce must be base64 text"),
    "salt not base64": (_set("salt", "not base64!"), "salt is not valid base64"),
    "nonce not ASCII": (_set("nonce", "ñññ"), "nonce is not valid base64"),
    "sealed not base64": (_set("sealed", "AAA"), "sealed is not valid base64"),
    "both kinds of slot": (_set("wrapped", _b64(48)), "unknown field 'custodian'"),
    "salt of 8 bytes": (_set("salt", _b64(8)), "salt must hold 16 to 64 bytes, not 8"),
    "nonce of 16 bytes": (_set("nonce", _b64(16)), "nonce must hold 12 bytes, not 16"),
    "sealed of 32 bytes": (_set("sealed", _b64(32)), "sealed must hold 144 bytes, not 32"),
    "public of 32 bytes": (_set("public", _b64(32)), "public must hold 1248 bytes, not 32"),
    "master of 48 bytes": (_set("master", _b64(48)), "master must hold 1168 bytes, not 48"),
}
# fmt: on


def _write_edit(folder, edit):
    path = folder / "keyslots.json"
    if callable(edit):
        doc = edit(json.loads(path.read_text()))
        path.write_text(json.dumps(doc))
    else:
        path.write_bytes(edit)


def test_every_edit_of_the_slot_file_is_one_clear_line_at_once(cli, tmp_path, store_dir, session):
    session.close()
    folders = {}
    for i, (case, (edit, _)) in enumerate(EDITS.items()):
        folders[case] = tmp_path / f"edited-{i}"
        shutil.copytree(store_dir, folders[case])
        _write_edit(folders[case], edit)
        # Every edit in-process: refused before any Argon2 work, in milliseconds, and
        # always as a CertdeskError (anything else would be an "internal error").
        started = time.monotonic()
        with pytest.raises(CertdeskError, match=r"damaged|Update Certdesk") as refused:
            users.sign_in(folders[case], "admin", password=PASSWORD)
        assert time.monotonic() - started < 0.5, case
        assert EDITS[case][1] in str(refused.value), (case, str(refused.value))

    def certdesk_list(folder):
        started = time.monotonic()
        result = cli("list", env_extra={"CERTDESK_STORE": str(folder)})
        return result, time.monotonic() - started

    baseline = certdesk_list(store_dir)
    assert baseline[0].returncode == 0, baseline[0].stderr
    # Every edit through the CLI too (in-process: a run costs milliseconds).
    runs = {case: certdesk_list(folders[case]) for case in EDITS}
    for case, (result, took) in runs.items():
        assert result.returncode == 1, (case, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (case, result.stderr)
        assert EDITS[case][1] in lines[0], (case, lines[0])
        assert "wrong password" not in lines[0].lower()
        # Opening the store is most of a run; the refusal adds next to nothing.
        assert took < baseline[1] + 2.0, (case, took)
