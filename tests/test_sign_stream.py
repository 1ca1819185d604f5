"""`certdesk sign` hashes the file in chunks: any key kind openssl verifies, the digest
that matches the key, constant memory for a large file, and a FIFO or a device refused
at once."""

import json
import os
import re
import resource
import subprocess
import sys
import time

from tests.helpers.cli import one_line_error
from tests.helpers.stores import PASSWORD, make_store

KINDS = ("RSA", "P-256", "P-384", "P-521")
DIGESTS = {"RSA": "sha256", "P-256": "sha256", "P-384": "sha384", "P-521": "sha512"}


def _key(certs, kind):
    return certs.rsa_key() if kind == "RSA" else certs.curve_key(kind)


def _signer_store(cli, store_dir, tmp_path, certs, aliases: list[str], keys: list) -> None:
    """A store holding a code-signing certificate with its key per alias, which admin
    may sign with."""
    make_store(store_dir)
    files = [
        str(certs.write(tmp_path, f"{i}.p12", certs.p12(*certs.make_cert(alias, key=key), None)))
        for i, (alias, key) in enumerate(zip(aliases, keys, strict=True))
    ]
    assert cli("import", *files).returncode == 0
    cert_args = [arg for alias in aliases for arg in ("--cert", alias)]
    added = cli("policy", "add", "Admin signs", *cert_args, "--user", "admin")
    assert added.returncode == 0, added.stderr


def _printed(sig) -> str:
    printed = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(sig)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return printed.stdout


def test_each_key_kind_signs_with_its_digest_and_openssl_verifies(cli, store_dir, tmp_path, certs):
    aliases = [f"{kind} Signing" for kind in KINDS]
    _signer_store(cli, store_dir, tmp_path, certs, aliases, [_key(certs, kind) for kind in KINDS])
    payload = certs.write(tmp_path, "build.bin", os.urandom(3 * 1024 * 1024 + 17))
    for kind, alias in zip(KINDS, aliases, strict=True):
        sig = tmp_path / f"{kind}.sig"
        done = cli("sign", alias, str(payload), "--out", str(sig))
        assert done.returncode == 0, done.stderr
        assert certs.verify_detached(sig, payload)
        printed = _printed(sig)
        digests = re.findall(r"algorithm: (sha\d+) \(", printed)
        assert digests and set(digests) == {DIGESTS[kind]}, (kind, digests)
        assert "S/MIME Capabilities" not in printed and "1.2.840.113549.1.9.15" not in printed
        assert "eContent: <ABSENT>" in printed  # detached
    events = json.loads(cli("audit", "--json").stdout)
    signed = [e for e in events if e["action"] == "certificate.sign"]
    assert [e["outcome"] for e in signed] == ["allowed"] * 4
    sha256 = certs.openssl("dgst", "-sha256", "-r", str(payload)).stdout.split()[0].decode()
    assert {e["details"]["sha256"] for e in signed} == {sha256}


def _cli_env():
    # As the `cli` fixture: the isolated fixture has pointed HOME and the store here.
    return os.environ | {"CERTDESK_USER": "admin", "CERTDESK_PASSWORD": PASSWORD}


def _limit_memory():
    # A refusal that regresses into reading /dev/zero must not take the machine with it.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _timed(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "app", *args], env=_cli_env(), capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=30, preexec_fn=_limit_memory,
    )  # fmt: skip
    return done, time.monotonic() - start


def test_a_fifo_and_a_device_are_refused_at_once(cli, store_dir, tmp_path, certs):
    _signer_store(cli, store_dir, tmp_path, certs, ["Quick Signing"], [certs.ec_key()])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _, startup = _timed("--version")
    for path, kind in ((fifo, "named pipe"), ("/dev/zero", "device")):
        refused, took = _timed("sign", "Quick Signing", str(path), "--out", str(tmp_path / "s.sig"))
        assert refused.returncode == 1
        assert kind in one_line_error(refused) and str(path) in one_line_error(refused)
        assert took < startup + 1.0, f"{path}: {took:.2f} s (start-up {startup:.2f} s)"
        assert not (tmp_path / "s.sig").exists()
    shown = json.loads(cli("show", "Quick Signing", "--json").stdout)
    assert shown["usage_count"] == 0
    events = json.loads(cli("audit", "--json").stdout)
    assert not [e for e in events if e["action"] == "certificate.sign"]


# Run by a small Python in between: a child forked from this test process would count
# the test process's own memory (pytest, Qt) in its peak until it execs.
PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def test_a_large_file_is_signed_in_constant_memory(cli, store_dir, tmp_path, certs):
    _signer_store(cli, store_dir, tmp_path, certs, ["Big Signing"], [certs.ec_key()])
    big = tmp_path / "big.img"
    size = 1 << 30
    with open(big, "wb") as sparse:
        sparse.truncate(size)  # 1 GiB of zeros that take no disk
    sig = tmp_path / "big.sig"
    measured = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "app",
         "sign", "Big Signing", str(big), "--out", str(sig)],
        env=_cli_env(), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert measured.returncode == 0, measured.stderr
    peak = int(measured.stdout.split()[-1]) * 1024  # ru_maxrss is in KiB on Linux
    assert peak < 200 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB for a 1 GiB file"
    assert certs.verify_detached(sig, big)
