"""`list --json` writes its indented JSON itself (json's indenting encoder is pure
Python): it must stay exactly the text json.dumps makes of the documented objects, so that
a key added to `certificate_json` cannot be missing from `list --json`."""

import json

from app.cli.schemas import certificate_json, certificates_json_text
from app.services.certificates import CertificateRow, certificate_row


def awkward_rows() -> list[CertificateRow]:
    texts = ["plain", 'quote " and \\ backslash', "tab\tnew\nline", "Zürich ☃ 证书", "\x1b[31m"]
    return [
        certificate_row(
            id=i, alias=text, enabled=i % 2, has_pin=i % 3 == 0, ask_reason=0,
            usage_count=i * 1000, last_used_us=None if i % 2 else 1_700_000_000_123_456,
            valid_from_us=0, valid_to_us=253_402_300_799_000_000, subject=f"CN={text}",
            serial="-0a" if i == 3 else "0123456789abcdef", sha1="a" * 40, sha256="b" * 64,
            has_private_key=i % 2, owner=None if i % 2 else text, issuer=f"CN={text} CA",
            key_algorithm="EC P-256", groups=() if i % 2 else (text, "Prod"), policies=(text,),
        )
        for i, text in enumerate(texts)
    ]  # fmt: skip


def test_the_written_text_is_what_json_dumps_makes_of_the_documented_objects():
    rows = awkward_rows()
    expected = json.dumps([certificate_json(r) for r in rows], indent=2, ensure_ascii=False)
    assert "".join(certificates_json_text(rows)) == expected
    # Across the parts it is written in, and for no rows at all.
    assert "".join(certificates_json_text(rows, part=2)) == expected
    assert "".join(certificates_json_text([])) == json.dumps([], indent=2)
