"""The `certdesk` command line: parses, calls app.services, prints, exits.

Exit codes: 0 done; 1 the operation failed or was refused (one line per problem on
stderr); 2 bad usage. Qt is never imported here, so that the CLI starts fast.
"""

import argparse
import getpass
import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import __version__
from app.crypto.csr import EXTENDED_KEY_USAGES, RequestSpec
from app.crypto.keygen import DEFAULT_KEY_SPEC, KeySpec, all_key_specs
from app.errors import CertdeskError, ValidationError
from app.files import (
    FileRefusedError,
    check_new_file,
    display_path,
    new_file,
    open_regular,
    write_new_file,
)
from app.services import (
    audit_log,
    backup,
    certificate_edits,
    certificate_groups,
    certificate_import,
    certificates,
    integrity,
    lifecycle,
    logins,
    policies,
    signing,
    signing_requests,
    users,
)
from app.services.aliases import validate_alias
from app.services.certificate_edits import GeneralChanges
from app.services.certificates import CertificateRow
from app.services.policies import PolicySpec
from app.services.roles import BUILTIN_ROLES, SIGNER
from app.services.session import Session
from app.services.signing_requests import RequestInfo
from app.services.targets import BulkResult
from app.sqlite_errors import store_problem
from app.store import resolve_store_dir


class Failed(Exception):
    """The command ran but some of its work failed: exit 1 after finishing the rest."""


def wants_gui(args: list[str]) -> bool:
    rest = _without_store_option(args)
    return not rest


def store_option(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--store" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--store="):
            return arg.split("=", 1)[1]
    return None


def _without_store_option(args: list[str]) -> list[str]:
    rest, skip = [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
        elif arg == "--store" and i + 1 < len(args):
            skip = True
        elif not arg.startswith("--store="):
            rest.append(arg)
    return rest


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="store folder (default: $CERTDESK_STORE, else the user data folder)",
    )
    parser = argparse.ArgumentParser(
        prog="certdesk",
        parents=[common],
        description="Signing certificates and their private keys in an encrypted store. "
        "Without a command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"certdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", parents=[common], help="create the store and its administrator")
    p.add_argument("--admin", metavar="NAME", help="administrator's user name (default: login)")

    p = sub.add_parser("import", parents=[common], help="import certificates (and PKCS#12 keys)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--alias", metavar="NAME", help="alias for the (first) certificate")
    p.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the PKCS#12 password"
    )

    p = sub.add_parser("list", parents=[common], help="list certificates")
    p.add_argument("--json", action="store_true", help="one JSON array")

    p = sub.add_parser("show", parents=[common], help="show one certificate")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("--json", action="store_true", help="one JSON object")

    p = sub.add_parser("export", parents=[common], help="write a certificate to a .cer file")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("--out", required=True, metavar="PATH")
    p.add_argument(
        "--format",
        choices=("der", "pem"),
        help="default: pem for an --out ending in .pem, else der (the usual .cer)",
    )

    for name, what in (("enable", "enable"), ("disable", "disable")):
        p = sub.add_parser(name, parents=[common], help=f"{what} certificates")
        p.add_argument("aliases", nargs="+", metavar="ALIAS")

    p = sub.add_parser(
        "delete", parents=[common], help="delete certificates and destroy their private keys"
    )
    p.add_argument("aliases", nargs="+", metavar="ALIAS")
    p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    p = sub.add_parser("set", parents=[common], help="change a certificate's General settings")
    p.add_argument("alias", metavar="ALIAS")
    owner = p.add_mutually_exclusive_group()
    owner.add_argument("--owner", metavar="USER", help="the user who owns the certificate")
    owner.add_argument("--no-owner", action="store_true", help="no owner")
    p.add_argument("--description", metavar="TEXT")
    reason = p.add_mutually_exclusive_group()
    reason.add_argument("--ask-reason", dest="ask_reason", action="store_true", default=None)
    reason.add_argument("--no-ask-reason", dest="ask_reason", action="store_false")
    pin = p.add_mutually_exclusive_group()
    pin.add_argument("--pin-env", metavar="VAR", help="environment variable holding a new PIN")
    pin.add_argument("--no-pin", action="store_true", help="stop asking for a PIN")
    p.add_argument("--rename", metavar="NEW", help="a new alias")

    p = sub.add_parser("user", parents=[common], help="add or list users")
    user_sub = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    u = user_sub.add_parser("add", parents=[common], help="a new user with a key slot")
    u.add_argument("name", metavar="NAME")
    u.add_argument("--role", default=SIGNER, choices=list(BUILTIN_ROLES))
    u.add_argument("--user-group", dest="user_groups", action="append", default=[], metavar="UG")
    u = user_sub.add_parser("list", parents=[common], help="the store's users")
    u.add_argument("--json", action="store_true", help="one JSON array")

    p = sub.add_parser("audit", parents=[common], help="the audit log, oldest first")
    p.add_argument("--json", action="store_true", help="one JSON array")
    p.add_argument("--verify", action="store_true", help="exit 1 if the hash chain is broken")

    sub.add_parser(
        "check", parents=[common], help="integrity of the database, key slots, keys and audit log"
    )

    p = sub.add_parser("policy", parents=[common], help="who may sign with what, and when")
    policy_sub = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    q = policy_sub.add_parser("add", parents=[common], help="a new policy (Allow by default)")
    q.add_argument("name", metavar="NAME")
    for flag, dest in (
        ("--cert", "certificates"),
        ("--cert-group", "certificate_groups"),
        ("--user", "users"),
        ("--user-group", "user_groups"),
    ):
        q.add_argument(flag, dest=dest, action="append", default=[], metavar="NAME")
    q.add_argument("--deny", action="store_true", help="a Deny policy")
    q.add_argument("--priority", type=int, default=100, help="0 is the highest (default 100)")
    q.add_argument("--days", default="", help="e.g. mon-fri (default: every day)")
    q.add_argument("--hours", default="", help="UTC, e.g. 08:00-18:00 (default: all day)")
    q.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="YYYY-MM-DD")
    q.add_argument("--until", dest="date_until", type=_date, metavar="DATE", help="YYYY-MM-DD")
    q = policy_sub.add_parser("list", parents=[common], help="the policies, by priority")
    q.add_argument("--json", action="store_true", help="one JSON array")

    p = sub.add_parser("sign", parents=[common], help="a detached CMS signature of FILE")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", required=True, metavar="SIG")
    p.add_argument("--reason", metavar="TEXT")

    p = sub.add_parser("backup", parents=[common], help="the whole store in one encrypted file")
    p.add_argument("--out", required=True, metavar="FILE")
    p = sub.add_parser("restore", parents=[common], help="a backup into a new or empty --store")
    p.add_argument("archive", metavar="FILE")

    p = sub.add_parser("group", parents=[common], help="put certificates in groups or take out")
    group_sub = p.add_subparsers(dest="group_command", metavar="ACTION", required=True)
    for name, what in (("add", "put certificates in GROUP"), ("remove", "take them out")):
        g = group_sub.add_parser(name, parents=[common], help=what)
        g.add_argument("group", metavar="GROUP")
        g.add_argument("aliases", nargs="+", metavar="ALIAS")

    _add_request_parsers(sub, common)
    return parser


KEY_TOKENS = " ".join(spec.token for spec in all_key_specs())
SAN_TYPES = {"dns": "dns_names", "email": "emails", "uri": "uris", "ip": "ips"}


def _add_request_parsers(sub, common) -> None:
    p = sub.add_parser(
        "request", parents=[common], help="certificate signing requests (key kept in the store)"
    )
    request_sub = p.add_subparsers(dest="request_command", metavar="ACTION", required=True)
    r = request_sub.add_parser(
        "new", parents=[common], help="generate a key in the store and write its CSR"
    )
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

    r = request_sub.add_parser("list", parents=[common], help="list requests, newest first")
    r.add_argument("--json", action="store_true", help="one JSON array")
    r.add_argument("--pending", action="store_true", help="only the pending ones")

    r = request_sub.add_parser(
        "import", parents=[common], help="import the certificate issued for a pending request"
    )
    r.add_argument("certfile", metavar="CERTFILE")

    r = request_sub.add_parser("csr", parents=[common], help="write a request's CSR again")
    r.add_argument("request_id", type=int, metavar="ID")
    r.add_argument("--out", metavar="FILE", help="default: print it")

    r = request_sub.add_parser(
        "cancel", parents=[common], help="cancel a pending request and destroy its key"
    )
    r.add_argument("request_id", type=int, metavar="ID")
    r.add_argument("--yes", action="store_true", help="confirm: the key cannot be recovered")

    p = sub.add_parser(
        "renew", parents=[common], help="new key + CSR for a certificate, which stays usable"
    )
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the CSR (PEM)")
    p.add_argument(
        "--key", metavar="ALG", help=f"{KEY_TOKENS} (default: the certificate's key type)"
    )


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if (refused := _not_text(args)) is not None:
        _problem(refused)
        return 2
    for stream in (sys.stdout, sys.stderr):
        # A file name or certificate text that is not UTF-8 prints escaped, never fails.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    folder = None
    try:
        folder = resolve_store_dir(getattr(args, "store", None))
        return HANDLERS[args.command](args, folder)
    except Failed:
        return 1
    except CertdeskError as exc:
        _problem(str(exc))
        return 1
    except KeyboardInterrupt:
        _problem("interrupted")
        return 130
    except BrokenPipeError:  # `certdesk list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the file system refused something no check foresaw
        where = display_path(exc.filename) if exc.filename else "certdesk"
        _problem(f"{where}: {exc.strerror or exc}")
        return 1
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        problem = store_problem(exc, folder)  # met outside a transaction: a damaged page
        if problem is not None:
            _problem(str(problem))
            return 1
        if os.environ.get("CERTDESK_DEBUG"):
            traceback.print_exc()
        _problem(f"internal error: {type(exc).__name__}: {exc}")
        return 1


# Arguments that name files: any bytes a file name may hold. Every other argument is text
# the store keeps (aliases, names, descriptions, reasons), which must be UTF-8.
PATH_ARGUMENTS = {"files", "file", "out", "store", "archive", "certfile", "password_env", "pin_env"}


def _not_text(args: argparse.Namespace) -> str | None:
    """The first text argument that is not UTF-8 (the shell passed other bytes), said as
    one line, or None."""
    for dest, value in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not _is_utf8(item):
                return f"{dest.replace('_', '-')}: “{display_path(item)}” is not UTF-8 text"
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(message: str) -> None:
    print(f"certdesk: {_printable(message)}", file=sys.stderr)


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


def _new_password(prompt_for: str) -> str:
    password = os.environ.get("CERTDESK_PASSWORD")
    if password is not None:
        return password
    if not _interactive():
        raise CertdeskError(
            f"no password for {prompt_for}: set CERTDESK_PASSWORD or run in a terminal"
        )
    first = getpass.getpass(f"New password for {prompt_for}: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise CertdeskError("the two passwords differ")
    return first


def _sign_in(folder: Path) -> Session:
    """CERTDESK_USER + CERTDESK_PASSWORD; else a login remembered in the OS keyring;
    else a prompt on a terminal; else a clear refusal."""
    names = users.store_user_names(folder)
    user = os.environ.get("CERTDESK_USER")
    if user is not None and not _is_utf8(user):
        raise CertdeskError(f"CERTDESK_USER: “{display_path(user)}” is not UTF-8 text")
    password = os.environ.get("CERTDESK_PASSWORD")
    if not user:
        login = _login_name()
        user = login if login in names else (names[0] if len(names) == 1 else None)
    if user and password is None:
        remembered = logins.sign_in_remembered(folder, user)
        if remembered is not None:
            return remembered
    if user is None or password is None:
        if not _interactive():
            raise CertdeskError(
                "no credentials: set CERTDESK_USER and CERTDESK_PASSWORD "
                "(or run in a terminal to be asked)"
            )
        user = user or input("User: ").strip()
        password = getpass.getpass(f"Password for {user}: ")
    return users.sign_in(folder, user, password=password)[0]


def cmd_init(args, folder: Path) -> int:
    admin = args.admin or _login_name()
    if not admin:
        raise CertdeskError("--admin: no login name to default to; give one")
    password = _new_password(admin)
    session, _ = users.initialise_store(folder, admin, password)
    session.close()
    print(f"Created the store in {folder}; {admin} is its Administrator.")
    print("Nothing recovers a lost password: keep a backup of the store and its password.")
    return 0


def cmd_import(args, folder: Path) -> int:
    password = None
    if args.password_env:
        if args.password_env not in os.environ:
            raise CertdeskError(f"--password-env: the variable {args.password_env} is not set")
        password = os.environ[args.password_env]
    if args.alias is not None:
        validate_alias(args.alias)  # before any file: it is refused whatever the files hold
    session = _sign_in(folder)
    try:
        report = certificate_import.import_files(
            session, args.files, alias=args.alias, password=password
        )
        if _interactive():
            _retry_with_passwords(session, report)
    finally:
        session.close()
    for result in report.files:
        _print_file_result(result)
    if report.stopped:
        _problem(report.stopped)
    left_out = f"; {report.not_imported} file(s) not imported" if report.stopped else ""
    print(
        f"Imported {report.imported} certificate(s) and {report.keys_sealed} private key(s) "
        f"from {len(report.files)} file(s); {report.duplicates} already in the store; "
        f"{len(report.failed)} file(s) failed{left_out}."
    )
    if report.failed or report.stopped:
        raise Failed
    return 0


def _retry_with_passwords(session: Session, report) -> None:
    for i, result in enumerate(report.files):
        if result.needs_password:
            secret = getpass.getpass(f"Password for {result.name}: ")
            retry = certificate_import.import_files(session, [result.path], password=secret)
            if retry.files:
                report.files[i] = retry.files[0]


def _print_file_result(result) -> None:
    name = _printable(result.name)
    if result.error:
        hint = " (give it with --password-env VAR)" if result.needs_password else ""
        _problem(f"{name}: {result.error}{hint}")
        return
    for alias in result.imported:
        print(f"{name}: imported {alias!r} [{result.kind}]")
    for alias in result.duplicates:
        print(f"{name}: already in the store as {alias!r}; skipped")
    for alias in result.keys_linked:
        print(f"{name}: private key added to {alias!r}")
    for alias in result.keys_known:
        print(f"{name}: {alias!r} already holds this private key; skipped")
    for alias in result.requests_completed:
        print(f"{name}: completed the request {alias!r}")
    for alias in result.superseded:
        print(f"{name}: the certificate it renews is now {alias!r}, disabled")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_json(row: CertificateRow) -> dict:
    return {
        "alias": row.alias,
        "enabled": row.enabled,
        "owner": row.owner,
        "has_pin": row.has_pin,
        "ask_reason": row.ask_reason,
        "usage_count": row.usage_count,
        "last_used": _iso(row.last_used),
        "groups": list(row.groups),
        "policies": list(row.policies),
        "valid_from": _iso(row.valid_from),
        "valid_to": _iso(row.valid_to),
        "subject": row.subject,
        "issuer": row.issuer,
        "serial": row.serial,
        "sha1": row.sha1,
        "sha256": row.sha256,
        "has_private_key": row.has_private_key,
        "key_algorithm": row.key_algorithm,
    }


def cmd_list(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        rows = certificates.list_certificates(session)
    finally:
        session.close()
    if args.json:
        sys.stdout.write(
            json.dumps([certificate_json(r) for r in rows], indent=2, ensure_ascii=False)
        )
        print()
        return 0
    if not rows:
        print("No certificates yet: add some with `certdesk import FILE...`.")
        return 0
    shown = [_printable(r.alias) for r in rows]
    width = min(max(map(len, shown)), 48)
    now = datetime.now(UTC)
    print(f"{'ALIAS':<{width}}  {'STATUS':<8}  {'VALID TO':<10}  {'EXPIRY':<14}  KEY  GROUPS")
    for r, alias in zip(rows, shown, strict=True):
        status = "enabled" if r.enabled else "disabled"
        key = "yes" if r.has_private_key else "no"
        print(
            f"{alias[:width]:<{width}}  {status:<8}  {r.valid_to:%Y-%m-%d}  "
            f"{_expiry(r.valid_to, now):<14}  {key:<3}  {_printable(', '.join(r.groups))}"
        )
    return 0


def _expiry(valid_to: datetime, now: datetime) -> str:
    """As the console marks rows: expired, or days left within the warning window."""
    days = (valid_to - now) // timedelta(days=1)
    if days < 0:
        return "expired"
    return f"{days} day{'s' if days != 1 else ''} left" if days < certificates.EXPIRING_DAYS else ""


def cmd_show(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        detail = certificates.get_certificate(session, args.alias)
        purpose = signing.signing_purpose(session, detail.row.id)
    finally:
        session.close()
    row = detail.row
    if args.json:
        doc = certificate_json(row) | {
            "description": detail.description,
            "associated_users": list(detail.associated_users),
            "associated_user_groups": list(detail.associated_user_groups),
            "extensions": [
                {"oid": e.oid, "name": e.name, "critical": e.critical, "value": e.value}
                for e in detail.extensions
            ],
            "signing": {"allowed": purpose.allowed, "why": purpose.why},
        }
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    fields = [
        ("Alias", row.alias),
        ("Status", "enabled" if row.enabled else "disabled"),
        ("Owner", row.owner or "—"),
        ("Subject", row.subject),
        ("Issuer", row.issuer),
        ("Serial", row.serial),
        ("Valid from", _iso(row.valid_from)),
        ("Valid to", _iso(row.valid_to)),
        ("Key", row.key_algorithm),
        ("Private key", "held in the store" if row.has_private_key else "none"),
        ("Signing", purpose.text),
        ("SHA-1", row.sha1),
        ("SHA-256", row.sha256),
        ("Usage count", str(row.usage_count)),
        ("Last use", _iso(row.last_used) or "never"),
        ("Groups", ", ".join(row.groups) or "—"),
        ("Policies", ", ".join(row.policies) or "—"),
        ("Description", detail.description or "—"),
    ]
    for label, value in fields:
        print(f"{label + ':':<13} {_printable(value)}")
    if detail.extensions:
        print("Extensions:")
        for ext in detail.extensions:
            critical = " (critical)" if ext.critical else ""
            print(f"  {_printable(ext.name)}{critical}:")
            for line in ext.value.splitlines():
                print(f"      {_printable(line)}")
    return 0


def cmd_export(args, folder: Path) -> int:
    # DER in a file named .pem is a trap for the next tool that reads it.
    fmt = args.format or ("pem" if Path(args.out).suffix.lower() == ".pem" else "der")
    session = _sign_in(folder)
    try:
        with _out_option(args.out):
            out = certificates.export_certificate(session, args.alias, Path(args.out), fmt)
    finally:
        session.close()
    print(f"Wrote {args.alias!r} to {_printable(display_path(out))} ({fmt.upper()}).")
    return 0


def cmd_enable(args, folder: Path) -> int:
    return _bulk(folder, lambda s: lifecycle.enable_certificates(s, args.aliases))


def cmd_disable(args, folder: Path) -> int:
    return _bulk(folder, lambda s: lifecycle.disable_certificates(s, args.aliases))


def cmd_delete(args, folder: Path) -> int:
    if not args.yes:
        _problem(
            "delete destroys the certificates and their private keys and cannot be undone; "
            "add --yes to confirm"
        )
        return 2
    return _bulk(folder, lambda s: lifecycle.delete_certificates(s, args.aliases))


def cmd_group(args, folder: Path) -> int:
    operation = (
        certificate_groups.add_to_groups
        if args.group_command == "add"
        else certificate_groups.remove_from_groups
    )
    return _bulk(folder, lambda s: operation(s, args.aliases, [args.group]))


def cmd_set(args, folder: Path) -> int:
    pin = None
    if args.pin_env:
        if args.pin_env not in os.environ:
            raise CertdeskError(f"--pin-env: the variable {args.pin_env} is not set")
        pin = os.environ[args.pin_env]
    changes = GeneralChanges(
        alias=args.rename,
        owner=args.owner,
        clear_owner=args.no_owner,
        description=args.description,
        ask_reason=args.ask_reason,
        pin=pin,
        clear_pin=args.no_pin,
    )
    if changes == GeneralChanges():
        _problem("set: nothing to change (see certdesk set --help)")
        return 2
    session = _sign_in(folder)
    try:
        row = certificate_edits.edit_certificate(session, args.alias, changes)
    finally:
        session.close()
    print(f"Saved the settings of {row.alias!r}.")
    return 0


def cmd_user(args, folder: Path) -> int:
    if args.user_command == "list":
        return _list_users(args, folder)
    password = os.environ.get("CERTDESK_NEW_PASSWORD")
    if password is None:
        if not _interactive():
            raise CertdeskError(
                f"no password for {args.name}: set CERTDESK_NEW_PASSWORD or run in a terminal"
            )
        password = getpass.getpass(f"Password for the new user {args.name}: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise CertdeskError("the two passwords differ")
    session = _sign_in(folder)
    try:
        users.add_user(session, args.name, password, args.role, args.user_groups)
    finally:
        session.close()
    print(f"Added the user {args.name!r} ({args.role}).")
    return 0


def _list_users(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        rows = users.list_users(session)
    finally:
        session.close()
    if args.json:
        doc = [
            {"name": r.name, "role": r.role, "enabled": r.enabled, "user_groups": r.user_groups}
            for r in rows
        ]
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        groups_text = f"  [{', '.join(r.user_groups)}]" if r.user_groups else ""
        state = "" if r.enabled else "  (disabled)"
        print(_printable(f"{r.name}  {r.role}{state}{groups_text}"))
    return 0


def cmd_audit(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        events = audit_log.list_events(session)
        breaks = audit_log.verify_chain(session) if args.verify else []
    finally:
        session.close()
    if args.json:
        doc = [
            {
                "time": _iso(e.time),
                "user": e.user,
                "action": e.action,
                "target": e.target,
                "outcome": e.outcome,
                "details": e.details,
            }
            for e in events
        ]
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for e in events:
            details = ", ".join(f"{k}={v}" for k, v in e.details.items())
            line = f"{e.user}  {e.outcome:<7}  {e.action}  {e.target}  {details}"
            print(f"{_iso(e.time)}  {_printable(line)}")
    if breaks:
        _problem(f"the audit chain is broken at event(s) {', '.join(map(str, breaks))}")
        raise Failed
    if args.verify:
        print(f"The audit chain of {len(events)} event(s) is intact.", file=sys.stderr)
    return 0


def _printable(text: str) -> str:
    """Text from the store or a certificate as the terminal may show it: control, format
    (bidi) and separator characters escaped (\\x1b, \\u202e), so that nothing a certificate
    holds moves the cursor, recolours or reorders the output, or adds a line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def cmd_check(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        problems = integrity.check_store(session)
    finally:
        session.close()
    for problem in problems:
        _problem(problem)
    if problems:
        _problem(
            "the store is damaged: copy the store folder aside, then restore the latest "
            "backup into a new folder (`certdesk restore FILE --store NEW`)"
        )
        raise Failed
    print("The store is intact: database, key slots, sealed keys and audit chain.")
    return 0


def _date(text: str):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def cmd_policy(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        if args.policy_command == "add":
            spec = PolicySpec(
                name=args.name,
                certificates=tuple(args.certificates),
                certificate_groups=tuple(args.certificate_groups),
                users=tuple(args.users),
                user_groups=tuple(args.user_groups),
                deny=args.deny,
                priority=args.priority,
                days=args.days,
                hours=args.hours,
                date_from=args.date_from,
                date_until=args.date_until,
            )
            try:
                row = policies.add_policy(session, spec)
            except ValidationError as exc:
                raise CertdeskError(f"--{exc.field}: {exc.reason}") from None
            print(f"Added the policy {row.name!r} ({row.effect}, priority {row.priority}).")
            return 0
        rows = policies.list_policies(session)
    finally:
        session.close()
    if args.json:
        doc = [
            {
                "name": r.name,
                "effect": r.effect,
                "priority": r.priority,
                "enabled": r.enabled,
                "certificates": r.certificates,
                "certificate_groups": r.certificate_groups,
                "users": r.users,
                "user_groups": r.user_groups,
                "days": r.weekdays,
                "hours": r.hours,
                "from": r.date_from.isoformat() if r.date_from else None,
                "until": r.date_until.isoformat() if r.date_until else None,
            }
            for r in rows
        ]
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No policies yet: add one with `certdesk policy add`.")
    for r in rows:
        what = ", ".join([*r.certificates, *(f"group {g}" for g in r.certificate_groups)])
        who = ", ".join([*r.users, *(f"user group {g}" for g in r.user_groups)])
        when = " ".join(filter(None, (r.weekdays, r.hours))) or "always"
        print(_printable(f"{r.priority:>4}  {r.effect:<5}  {r.name}: {who} → {what} ({when})"))
    return 0


def cmd_sign(args, folder: Path) -> int:
    # The content is opened first, so a FIFO or a device is refused before anyone signs
    # in; the output is claimed before signing: a signature counted in the store is one
    # that gets delivered.
    with open_regular(args.file) as content, _out_option(args.out), new_file(args.out) as out:
        session = _sign_in(folder)
        try:
            pin = os.environ.get("CERTDESK_PIN")
            if pin is None and signing.needs_pin(session, args.alias):
                if not _interactive():
                    raise CertdeskError(f"{args.alias!r} asks for its PIN: set CERTDESK_PIN")
                pin = getpass.getpass(f"PIN for {args.alias}: ")
            signature = signing.sign_data(session, args.alias, content, args.reason, pin)
        finally:
            session.close()
        out.write(signature)
    print(
        f"Signed {_printable(display_path(args.file))} with {args.alias!r}; "
        f"the signature (CMS, DER) is in {_printable(display_path(args.out))}."
    )
    return 0


@contextmanager
def _out_option(out: str | os.PathLike) -> Iterator[None]:
    """The file named by --out is always new (app.files); a refusal of it names the option
    (a refusal of another file, met on the way, goes on as it is)."""
    try:
        yield
    except FileRefusedError as exc:
        if exc.path != display_path(out):
            raise
        raise CertdeskError(f"--out: {exc}") from None


def cmd_backup(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        out = backup.backup_store(session, Path(args.out))
    finally:
        session.close()
    print(f"Wrote the backup to {out}; it opens with the same users' passwords.")
    return 0


def cmd_restore(args, folder: Path) -> int:
    backup.restore_store(folder, Path(args.archive))
    print(f"Restored the store into {folder}; sign in as before.")
    return 0


def _bulk(folder: Path, operation) -> int:
    """Sign in, run a bulk operation, print one line per certificate; exit 1 if any failed."""
    session = _sign_in(folder)
    try:
        result: BulkResult = operation(session)
    finally:
        session.close()
    for note in result.notes:
        print(note[:1].upper() + note[1:] + ".")
    for outcome in result.outcomes:
        if outcome.ok:
            print(f"{outcome.target}: {outcome.message}")
        else:
            _problem(f"{outcome.target}: {outcome.message}")
    if result.failures:
        raise Failed
    return 0


# Service field names as the request commands spell them.
REQUEST_FLAGS = {
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


def _flag_named(exc: ValidationError) -> CertdeskError:
    return CertdeskError(f"{REQUEST_FLAGS.get(exc.field, exc.field)}: {exc.reason}")


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


def _check_out(out: str) -> Path:
    """Refuse an unusable --out before a key is generated for nothing."""
    with _out_option(out):
        return check_new_file(out)


def _write_csr(info: RequestInfo, out: Path) -> None:
    """As a new file: the one named may be the certificate the CA sent meanwhile."""
    try:
        write_new_file(out, info.csr_pem.encode("ascii"))
    except FileRefusedError as exc:
        raise CertdeskError(
            f"--out: {exc}; the request {info.id} is kept: "
            f"`certdesk request csr {info.id} --out FILE` writes its CSR"
        ) from None


def cmd_request(args, folder: Path) -> int:
    return REQUEST_HANDLERS[args.request_command](args, folder)


def cmd_request_new(args, folder: Path) -> int:
    out = _check_out(args.out)
    try:
        key = KeySpec.from_token(args.key)
        spec = RequestSpec(
            subject=args.subject,
            extended_key_usages=tuple(args.eku) or ("codeSigning",),
            **_sans(args.san),
        )
        if not spec.subject:
            raise ValidationError("subject", "is empty; give a DN such as CN=Build,O=Example")
    except ValidationError as exc:
        raise _flag_named(exc) from None
    session = _sign_in(folder)
    try:
        info = signing_requests.create_request(
            session, args.alias, key, spec, groups=args.group, owner=args.owner
        )
    except ValidationError as exc:
        raise _flag_named(exc) from None
    finally:
        session.close()
    _write_csr(info, out)
    print(
        f"Created the request {info.id} for {info.alias!r} ({info.key_algorithm}); "
        "its private key stays sealed in the store."
    )
    print(f"Wrote the CSR to {out}. Import the issued certificate with `certdesk request import`.")
    return 0


def request_json(info: RequestInfo) -> dict:
    return {
        "id": info.id,
        "alias": info.alias,
        "subject": info.subject,
        "key_algorithm": info.key_algorithm,
        "created": _iso(info.created_at),
        "renews": info.renews,
        "status": info.status,
        "groups": list(info.groups),
        "owner": info.owner,
        "certificate": info.certificate,
    }


def cmd_request_list(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        infos = signing_requests.list_requests(session, include_closed=not args.pending)
    finally:
        session.close()
    if args.json:
        json.dump([request_json(i) for i in infos], sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    if not infos:
        print("No requests: create one with `certdesk request new` or `certdesk renew`.")
        return 0
    shown = [_printable(i.alias) for i in infos]
    width = min(max(map(len, shown)), 40)
    print(f"{'ID':>4}  {'ALIAS':<{width}}  {'STATUS':<9}  {'KEY':<11}  CREATED     SUBJECT")
    for i, alias in zip(infos, shown, strict=True):
        note = f" (renews {i.renews!r})" if i.renews else ""
        print(
            f"{i.id:>4}  {alias[:width]:<{width}}  {i.status:<9}  {i.key_algorithm:<11}  "
            f"{i.created_at:%Y-%m-%d}  {_printable(i.subject)}{note}"
        )
    return 0


def cmd_request_import(args, folder: Path) -> int:
    session = _sign_in(folder)
    try:
        result = signing_requests.import_issued(session, args.certfile)
    finally:
        session.close()
    _print_file_result(result)
    return 0


def cmd_request_csr(args, folder: Path) -> int:
    out = _check_out(args.out) if args.out else None
    session = _sign_in(folder)
    try:
        info = signing_requests.get_request(session, args.request_id)
    finally:
        session.close()
    if out is None:
        sys.stdout.write(info.csr_pem)
        return 0
    _write_csr(info, out)
    print(f"Wrote the CSR of the request {info.id} ({info.alias!r}) to {out}.")
    return 0


def cmd_request_cancel(args, folder: Path) -> int:
    if not args.yes:
        _problem(
            "cancel destroys the request's private key and cannot be undone; add --yes to confirm"
        )
        return 2
    session = _sign_in(folder)
    try:
        info = signing_requests.get_request(session, args.request_id)
        signing_requests.cancel_request(session, args.request_id)
    finally:
        session.close()
    print(f"Cancelled the request {info.id} ({info.alias!r}); its private key is destroyed.")
    return 0


def cmd_renew(args, folder: Path) -> int:
    out = _check_out(args.out)
    try:
        key = KeySpec.from_token(args.key) if args.key else None
    except ValidationError as exc:
        raise _flag_named(exc) from None
    session = _sign_in(folder)
    try:
        info = signing_requests.renew(session, args.alias, key)
        enabled = certificates.get_certificate(session, args.alias).row.enabled
    finally:
        session.close()
    _write_csr(info, out)
    state = "stays enabled and usable" if enabled else "stays as it is (disabled)"
    print(
        f"Created the renewal request {info.id} for {args.alias!r} ({info.key_algorithm}); "
        f"{args.alias!r} {state} until the issued certificate is imported "
        "with `certdesk request import`."
    )
    print(f"Wrote the CSR to {out}.")
    return 0


REQUEST_HANDLERS = {
    "new": cmd_request_new,
    "list": cmd_request_list,
    "import": cmd_request_import,
    "csr": cmd_request_csr,
    "cancel": cmd_request_cancel,
}

HANDLERS = {
    "init": cmd_init,
    "import": cmd_import,
    "list": cmd_list,
    "show": cmd_show,
    "export": cmd_export,
    "enable": cmd_enable,
    "disable": cmd_disable,
    "delete": cmd_delete,
    "group": cmd_group,
    "set": cmd_set,
    "user": cmd_user,
    "audit": cmd_audit,
    "check": cmd_check,
    "backup": cmd_backup,
    "policy": cmd_policy,
    "sign": cmd_sign,
    "restore": cmd_restore,
    "request": cmd_request,
    "renew": cmd_renew,
}
