"""Certificate signing requests, their keys kept in the store: `request new`, `request
list`, `request import`, `request csr`, `request cancel`, `renew`."""

import sys
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import check_out, fields_as_flags
from app.cli.output import print_file_result, print_json, printable, problem
from app.cli.schemas import request_json
from app.cli.signin import signed_in
from app.crypto.csr import EXTENDED_KEY_USAGES, RequestSpec
from app.crypto.keygen import DEFAULT_KEY_SPEC, KeySpec, all_key_specs
from app.errors import CertdeskError, ValidationError
from app.files import FileRefusedError, write_new_file
from app.services import certificates, signing_requests
from app.services.signing_requests import RequestInfo

KEY_TOKENS = " ".join(spec.token for spec in all_key_specs())
SAN_TYPES = {"dns": "dns_names", "email": "emails", "uri": "uris", "ip": "ips"}

# The fields of a request, and of its parts, as the request commands spell them.
FLAGS = {
    "alias": "--alias",
    "subject": "--subject",
    "san": "--san",
    "dns_names": "--san",
    "emails": "--san",
    "uris": "--san",
    "ips": "--san",
    "extended_key_usages": "--eku",
    "groups": "--group",
    "owner": "--owner",
    "key": "--key",
}


def register(commands: Commands) -> None:
    request = commands.group("request", "certificate signing requests (key kept in the store)")
    r = request.add("new", "generate a key in the store and write its CSR", run_new)
    r.add_argument("--alias", required=True, metavar="NAME", help="alias of the certificate")
    r.add_argument(
        "--subject", required=True, metavar="DN", help="RFC 4514, e.g. CN=Build,O=Example,C=GB"
    )
    r.add_argument(
        "--key",
        metavar="ALG",
        default=DEFAULT_KEY_SPEC.token,
        help=f"{KEY_TOKENS} (default {DEFAULT_KEY_SPEC.token})",
    )
    r.add_argument(
        "--san",
        action="append",
        default=[],
        metavar="TYPE:VALUE",
        help="subject alternative name; TYPE dns, email, uri or ip (repeatable)",
    )
    r.add_argument(
        "--eku",
        action="append",
        default=[],
        metavar="NAME",
        help=f"extended key usage: {' '.join(EXTENDED_KEY_USAGES)} or an OID "
        "(repeatable; default codeSigning)",
    )
    r.add_argument("--group", action="append", default=[], metavar="G", help="(repeatable)")
    r.add_argument("--owner", metavar="USER")
    r.add_argument("--out", required=True, metavar="FILE", help="where to write the CSR (PEM)")
    r = request.add("list", "list requests, newest first", run_list, json="one JSON array")
    r.add_argument("--pending", action="store_true", help="only the pending ones")
    r = request.add("import", "import the certificate issued for a pending request", run_import)
    r.add_argument("certfile", metavar="CERTFILE")
    r = request.add("csr", "write a request's CSR again", run_csr)
    r.add_argument("request_id", type=int, metavar="ID")
    r.add_argument("--out", metavar="FILE", help="default: print it")
    r = request.add("cancel", "cancel a pending request and destroy its key", run_cancel)
    r.add_argument("request_id", type=int, metavar="ID")
    r.add_argument("--yes", action="store_true", help="confirm: the key cannot be recovered")

    p = commands.add("renew", "new key + CSR for a certificate, which stays usable", run_renew)
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the CSR (PEM)")
    p.add_argument(
        "--key", metavar="ALG", help=f"{KEY_TOKENS} (default: the certificate's key type)"
    )


def _sans(values: list[str]) -> dict[str, tuple[str, ...]]:
    sans: dict[str, list[str]] = {field: [] for field in SAN_TYPES.values()}
    for value in values:
        kind, colon, rest = value.partition(":")
        if not colon or kind.strip().lower() not in SAN_TYPES or not rest.strip():
            raise ValidationError(
                "san", f"{value!r} is not TYPE:VALUE with TYPE dns, email, uri or ip"
            )
        sans[SAN_TYPES[kind.strip().lower()]].append(rest.strip())
    return {field: tuple(items) for field, items in sans.items()}


def _write_csr(info: RequestInfo, out: Path) -> None:
    """As a new file: the one named may be the certificate the CA sent meanwhile."""
    try:
        write_new_file(out, info.csr_pem.encode("ascii"))
    except FileRefusedError as exc:
        raise CertdeskError(
            f"--out: {exc}; the request {info.id} is kept: "
            f"`certdesk request csr {info.id} --out FILE` writes its CSR"
        ) from None


def run_new(args, folder: Path) -> int:
    out = check_out(args.out)
    with fields_as_flags(FLAGS):
        key = KeySpec.from_token(args.key)
        spec = RequestSpec(
            subject=args.subject,
            extended_key_usages=tuple(args.eku) or ("codeSigning",),
            **_sans(args.san),
        )
        if not spec.subject:
            raise ValidationError("subject", "is empty; give a DN such as CN=Build,O=Example")
    with signed_in(folder) as session, fields_as_flags(FLAGS):
        info = signing_requests.create_request(
            session, args.alias, key, spec, groups=args.group, owner=args.owner
        )
    _write_csr(info, out)
    print(
        f"Created the request {info.id} for {info.alias!r} ({info.key_algorithm}); "
        "its private key stays sealed in the store."
    )
    print(f"Wrote the CSR to {out}. Import the issued certificate with `certdesk request import`.")
    return 0


def run_list(args, folder: Path) -> int:
    with signed_in(folder) as session:
        infos = signing_requests.list_requests(session, include_closed=not args.pending)
    if args.json:
        print_json([request_json(i) for i in infos])
        return 0
    if not infos:
        print("No requests: create one with `certdesk request new` or `certdesk renew`.")
        return 0
    shown = [printable(i.alias) for i in infos]
    width = min(max(map(len, shown)), 40)
    print(f"{'ID':>4}  {'ALIAS':<{width}}  {'STATUS':<9}  {'KEY':<11}  CREATED     SUBJECT")
    for i, alias in zip(infos, shown, strict=True):
        note = f" (renews {i.renews!r})" if i.renews else ""
        print(
            f"{i.id:>4}  {alias[:width]:<{width}}  {i.status:<9}  {i.key_algorithm:<11}  "
            f"{i.created_at:%Y-%m-%d}  {printable(i.subject)}{note}"
        )
    return 0


def run_import(args, folder: Path) -> int:
    with signed_in(folder) as session:
        result = signing_requests.import_issued(session, args.certfile)
    print_file_result(result)
    return 0


def run_csr(args, folder: Path) -> int:
    out = check_out(args.out) if args.out else None
    with signed_in(folder) as session:
        info = signing_requests.get_request(session, args.request_id)
    if out is None:
        sys.stdout.write(info.csr_pem)
        return 0
    _write_csr(info, out)
    print(f"Wrote the CSR of the request {info.id} ({info.alias!r}) to {out}.")
    return 0


def run_cancel(args, folder: Path) -> int:
    if not args.yes:
        problem(
            "cancel destroys the request's private key and cannot be undone; add --yes to confirm"
        )
        return 2
    with signed_in(folder) as session:
        info = signing_requests.get_request(session, args.request_id)
        signing_requests.cancel_request(session, args.request_id)
    print(f"Cancelled the request {info.id} ({info.alias!r}); its private key is destroyed.")
    return 0


def run_renew(args, folder: Path) -> int:
    out = check_out(args.out)
    with fields_as_flags(FLAGS):
        key = KeySpec.from_token(args.key) if args.key else None
    with signed_in(folder) as session:
        info = signing_requests.renew(session, args.alias, key)
        enabled = certificates.get_certificate(session, args.alias).row.enabled
    _write_csr(info, out)
    state = "stays enabled and usable" if enabled else "stays as it is (disabled)"
    print(
        f"Created the renewal request {info.id} for {args.alias!r} ({info.key_algorithm}); "
        f"{args.alias!r} {state} until the issued certificate is imported "
        "with `certdesk request import`."
    )
    print(f"Wrote the CSR to {out}.")
    return 0
