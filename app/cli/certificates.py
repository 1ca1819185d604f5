"""The certificates: `import`, `list`, `show`, `export`, `enable`, `disable`, `delete`,
`set`."""

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import out_option, secret_from_env
from app.cli.output import Failed, print_file_result, print_json, printable, problem
from app.cli.schemas import certificate_detail_json, certificates_json_text, iso
from app.cli.signin import interactive, run_bulk, signed_in
from app.files import display_path
from app.services import (
    certificate_edits,
    certificate_import,
    certificates,
    expiry,
    lifecycle,
    signing,
)
from app.services.aliases import validate_alias
from app.services.certificate_edits import GeneralChanges
from app.services.certificate_import import ImportReport
from app.services.certificates import CertificateRow
from app.services.session import Session


def register(commands: Commands) -> None:
    p = commands.add("import", "import certificates (and PKCS#12 keys)", run_import)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--alias", metavar="NAME", help="alias for the (first) certificate")
    p.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the PKCS#12 password"
    )
    commands.add("list", "list certificates", run_list, json="one JSON array")
    p = commands.add("show", "show one certificate", run_show, json="one JSON object")
    p.add_argument("alias", metavar="ALIAS")
    p = commands.add("export", "write a certificate to a .cer file", run_export)
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("--out", required=True, metavar="PATH")
    p.add_argument(
        "--format",
        choices=("der", "pem"),
        help="default: pem for an --out ending in .pem or .crt, else der (the usual .cer)",
    )
    for name, run in (("enable", run_enable), ("disable", run_disable)):
        p = commands.add(name, f"{name} certificates", run)
        p.add_argument("aliases", nargs="+", metavar="ALIAS")
    p = commands.add("delete", "delete certificates and destroy their private keys", run_delete)
    p.add_argument("aliases", nargs="+", metavar="ALIAS")
    p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    _register_set(commands)


def _register_set(commands: Commands) -> None:
    p = commands.add("set", "change a certificate's General settings", run_set)
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


def run_import(args, folder: Path) -> int:
    password = secret_from_env("--password-env", args.password_env)
    if args.alias is not None:
        validate_alias(args.alias)  # before any file: it is refused whatever the files hold
    with signed_in(folder) as session:
        report = certificate_import.import_files(
            session, args.files, alias=args.alias, password=password
        )
        if interactive():
            report = _with_typed_passwords(session, report)
    for result in report.files:
        print_file_result(result)
    if report.stopped:
        problem(report.stopped)
    left_out = f"; {report.not_imported} file(s) not imported" if report.stopped else ""
    print(
        f"Imported {report.imported} certificate(s) and {report.keys_sealed} private key(s) "
        f"from {len(report.files)} file(s); {report.duplicates} already in the store; "
        f"{len(report.failed)} file(s) failed{left_out}."
    )
    if report.failed or report.stopped:
        raise Failed
    return 0


def _with_typed_passwords(session: Session, report: ImportReport) -> ImportReport:
    """Each file that asked for a password imported again with one typed at the terminal."""
    for result in [f for f in report.files if f.needs_password]:
        secret = getpass.getpass(f"Password for {result.name}: ")
        report = certificate_import.retry_with_password(session, report, result.path, secret)
    return report


def run_list(args, folder: Path) -> int:
    with signed_in(folder) as session:
        rows = certificates.list_certificates(session)
    if args.json:
        write = sys.stdout.write
        for text in certificates_json_text(rows):
            write(text)
        write("\n")
        return 0
    if not rows:
        print("No certificates yet: add some with `certdesk import FILE...`.")
        return 0
    shown = [printable(r.alias) for r in rows]
    width = min(max(map(len, shown)), 48)
    now = datetime.now(UTC)
    print(f"{'ALIAS':<{width}}  {'STATUS':<8}  {'VALID TO':<10}  {'EXPIRY':<14}  KEY  GROUPS")
    for r, alias in zip(rows, shown, strict=True):
        status = "enabled" if r.enabled else "disabled"
        key = "yes" if r.has_private_key else "no"
        print(
            f"{alias[:width]:<{width}}  {status:<8}  {r.valid_to:%Y-%m-%d}  "
            f"{_expiry_text(r, now):<14}  {key:<3}  {printable(', '.join(r.groups))}"
        )
    return 0


def _expiry_text(row: CertificateRow, now: datetime) -> str:
    """The EXPIRY column: blank while the certificate is simply valid."""
    found = expiry.expiry(row.valid_from, row.valid_to, now)
    if found.state == expiry.EXPIRING:
        return f"{found.days_left} day{'s' if found.days_left != 1 else ''} left"
    return "" if found.state == expiry.VALID else found.state


def run_show(args, folder: Path) -> int:
    with signed_in(folder) as session:
        detail = certificates.get_certificate(session, args.alias)
        purpose = signing.signing_purpose(session, detail.row.id)
    if args.json:
        print_json(certificate_detail_json(detail, purpose))
        return 0
    row = detail.row
    fields = [
        ("Alias", row.alias),
        ("Status", "enabled" if row.enabled else "disabled"),
        ("Owner", row.owner or "—"),
        ("Subject", row.subject),
        ("Issuer", row.issuer),
        ("Serial", row.serial),
        ("Valid from", iso(row.valid_from)),
        ("Valid to", iso(row.valid_to)),
        ("Key", row.key_algorithm),
        ("Private key", "held in the store" if row.has_private_key else "none"),
        ("Signing", purpose.text),
        ("SHA-1", row.sha1),
        ("SHA-256", row.sha256),
        ("Usage count", str(row.usage_count)),
        ("Last use", iso(row.last_used) or "never"),
        ("Groups", ", ".join(row.groups) or "—"),
        ("Policies", ", ".join(row.policies) or "—"),
        ("Description", detail.description or "—"),
    ]
    for label, value in fields:
        print(f"{label + ':':<13} {printable(value)}")
    if detail.extensions:
        print("Extensions:")
        for ext in detail.extensions:
            critical = " (critical)" if ext.critical else ""
            print(f"  {printable(ext.name)}{critical}:")
            for line in ext.value.splitlines():
                print(f"      {printable(line)}")
    return 0


def run_export(args, folder: Path) -> int:
    fmt = args.format or certificates.export_format(args.out)
    with signed_in(folder) as session, out_option(args.out):
        out = certificates.export_certificate(session, args.alias, Path(args.out), fmt)
    print(f"Wrote {args.alias!r} to {printable(display_path(out))} ({fmt.upper()}).")
    return 0


def run_enable(args, folder: Path) -> int:
    return run_bulk(folder, lambda session: lifecycle.enable_certificates(session, args.aliases))


def run_disable(args, folder: Path) -> int:
    return run_bulk(folder, lambda session: lifecycle.disable_certificates(session, args.aliases))


def run_delete(args, folder: Path) -> int:
    if not args.yes:
        problem(
            "delete destroys the certificates and their private keys and cannot be undone; "
            "add --yes to confirm"
        )
        return 2
    return run_bulk(folder, lambda session: lifecycle.delete_certificates(session, args.aliases))


def run_set(args, folder: Path) -> int:
    changes = GeneralChanges(
        alias=args.rename,
        owner=args.owner,
        clear_owner=args.no_owner,
        description=args.description,
        ask_reason=args.ask_reason,
        pin=secret_from_env("--pin-env", args.pin_env),
        clear_pin=args.no_pin,
    )
    if changes == GeneralChanges():
        problem("set: nothing to change (see certdesk set --help)")
        return 2
    with signed_in(folder) as session:
        row = certificate_edits.edit_certificate(session, args.alias, changes)
    print(f"Saved the settings of {row.alias!r}.")
    return 0
