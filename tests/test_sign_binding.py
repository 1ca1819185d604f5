"""A sealed key belongs to one public key: a certificate or request pointed at another's
key in the database is damage that `check` names and `sign` refuses; keys sealed before
the binding still open, and are matched the same way."""

import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.sealing import NONCE_SIZE, derive_subkey
from app.services import key_grants
from models import Certificate, KeyGrant, PrivateKey, Request
from tests.helpers.cli import one_line_error
from tests.helpers.stores import raw_store

DAMAGE = (
    "'Alpha Signing': its private key does not belong to its certificate; "
    "the store is damaged: run `certdesk check`"
)


def _key_of(alias: str) -> int:
    return Certificate.get(Certificate.alias == alias).private_key_id


def _swap_keys(first: str, second: str) -> None:
    """Each certificate pointed at the other's key (a key belongs to one certificate, so
    through NULL)."""
    keys = {alias: _key_of(alias) for alias in (first, second)}
    Certificate.update(private_key=None).where(Certificate.alias == second).execute()
    for alias, other in ((first, second), (second, first)):
        Certificate.update(private_key=keys[other]).where(Certificate.alias == alias).execute()


def _two_signers(cli, tmp_path, certs) -> None:
    files = []
    for alias, key in (("Alpha Signing", certs.rsa_key()), ("Beta Signing", certs.ec_key())):
        cert, key = certs.make_cert(alias, key=key)
        files.append(str(certs.write(tmp_path, f"{alias}.p12", certs.p12(cert, key, None))))
    assert cli("import", *files).returncode == 0
    assert cli("set", "Alpha Signing", "--owner", "admin").returncode == 0


def _sign_alpha(cli, tmp_path, name: str):
    payload = tmp_path / "payload.bin"
    if not payload.exists():
        payload.write_bytes(b"release 2.0\x00")
    return cli("sign", "Alpha Signing", str(payload), "--out", str(tmp_path / name)), payload


def _assert_refused_as_damage(cli, tmp_path, usage_before: int, damage: str = DAMAGE) -> None:
    refused, _ = _sign_alpha(cli, tmp_path, "refused.sig")
    assert refused.returncode == 1 and one_line_error(refused) == f"certdesk: {damage}"
    assert not (tmp_path / "refused.sig").exists()
    assert json.loads(cli("show", "Alpha Signing", "--json").stdout)["usage_count"] == usage_before
    events = json.loads(cli("audit", "--json").stdout)
    last = [e for e in events if e["action"] == "certificate.sign"][-1]
    assert (last["outcome"], last["details"]["why"]) == ("failed", damage)


def test_a_certificate_or_request_pointed_at_another_key_is_damage(
    cli, closed_store, tmp_path, certs
):
    _two_signers(cli, tmp_path, certs)
    requested = cli("request", "new", "--alias", "Gamma Signing", "--subject", "CN=Gamma",
                    "--key", "ec-p256", "--out", str(tmp_path / "gamma.csr"))  # fmt: skip
    assert requested.returncode == 0, requested.stderr
    first, _ = _sign_alpha(cli, tmp_path, "first.sig")
    assert first.returncode == 0, first.stderr
    assert cli("check").returncode == 0

    with raw_store(closed_store):
        alpha_key = _key_of("Alpha Signing")
        _swap_keys("Alpha Signing", "Beta Signing")
        Request.update(private_key=alpha_key).where(Request.alias == "Gamma Signing").execute()
    checked = cli("check")
    assert checked.returncode == 1
    lines = checked.stderr.strip().splitlines()
    assert "Traceback" not in checked.stderr and len(lines) == 6, lines
    assert "'Alpha Signing': its private key does not belong to its certificate" in lines[0]
    assert "'Beta Signing': its private key does not belong to its certificate" in lines[1]
    assert "'Gamma Signing'" in lines[2] and "does not belong to its request" in lines[2]
    # The owner's wrap stayed with the key, not with the certificate now pointing at it.
    assert lines[3].endswith(
        f"private key {alpha_key}: wrapped to 'admin', who may not sign with it"
    )
    assert "('Alpha Signing'): 'admin' may sign with it but holds no wrap" in lines[4]
    assert "restore the latest backup" in lines[5]
    _assert_refused_as_damage(cli, tmp_path, usage_before=1)


def _legacy_seal(session, row: PrivateKey) -> None:
    """Seal the key again as Certdesk did before data keys and before the public key was
    bound in: AES-GCM under the master key's sub-key, with the key's id alone as
    associated data."""
    pkcs8 = key_grants.open_key(session, row, row.uid)
    aead = AESGCM(derive_subkey(session.store.master_key(), "private-keys"))
    nonce = os.urandom(NONCE_SIZE)
    row.sealed = nonce + aead.encrypt(nonce, pkcs8, row.uid.encode())
    row.custodian_wrap = None
    row.save()
    KeyGrant.delete().where(KeyGrant.private_key == row.id).execute()


def test_keys_sealed_the_old_way_still_sign_and_are_matched(cli, closed_store, tmp_path, certs):
    _two_signers(cli, tmp_path, certs)
    with raw_store(closed_store) as session:
        for row in PrivateKey.select():
            _legacy_seal(session, row)
    assert cli("check").returncode == 0
    signed, payload = _sign_alpha(cli, tmp_path, "old.sig")
    assert signed.returncode == 0, signed.stderr
    assert certs.verify_detached(tmp_path / "old.sig", payload)

    with raw_store(closed_store):
        # The Administrator's sign-in sealed them again, under data keys.
        assert all(row.custodian_wrap is not None for row in PrivateKey.select())
        beta_key = _key_of("Beta Signing")
        _swap_keys("Alpha Signing", "Beta Signing")
        # The new seal vouches for the hash recorded beside it.
        PrivateKey.update(spki_sha256="ab" * 32).where(PrivateKey.id == beta_key).execute()
    checked = cli("check")
    assert checked.returncode == 1
    lines = checked.stderr.strip().splitlines()
    assert any(f"private key {beta_key}: does not open" in x for x in lines), lines
    assert any("'Beta Signing': its private key does not belong" in x for x in lines), lines
    unopened = "'Alpha Signing': its sealed private key does not open; run `certdesk check`"
    _assert_refused_as_damage(cli, tmp_path, usage_before=1, damage=unopened)


def test_a_new_seal_binds_the_recorded_public_key_hash(session, tmp_path, certs):
    from app.services import certificate_import, integrity

    cert, key = certs.make_cert("Bound Signing")
    certificate_import.import_files(
        session, [certs.write(tmp_path, "b.p12", certs.p12(cert, key, None))]
    )
    assert integrity.check_store(session) == []
    row = PrivateKey.get()
    PrivateKey.update(spki_sha256="cd" * 32).execute()
    assert integrity.check_store(session) == [
        f"private key {row.id}: does not open (its seal or wrap is damaged)"
    ]
