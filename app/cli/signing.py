"""Signing: `sign`."""

import getpass
import os
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import out_option
from app.cli.output import printable
from app.cli.signin import interactive, signed_in
from app.errors import CertdeskError
from app.files import display_path, new_file, open_regular
from app.services import signing


def register(commands: Commands) -> None:
    p = commands.add("sign", "a detached CMS signature of FILE", run_sign)
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", required=True, metavar="SIG")
    p.add_argument("--reason", metavar="TEXT")


def run_sign(args, folder: Path) -> int:
    # The content is opened first, so a FIFO or a device is refused before anyone signs
    # in; the output is claimed before signing: a signature counted in the store is one
    # that gets delivered.
    with open_regular(args.file) as content, out_option(args.out), new_file(args.out) as out:
        with signed_in(folder) as session:
            pin = os.environ.get("CERTDESK_PIN")
            if pin is None and signing.needs_pin(session, args.alias):
                if not interactive():
                    raise CertdeskError(f"{args.alias!r} asks for its PIN: set CERTDESK_PIN")
                pin = getpass.getpass(f"PIN for {args.alias}: ")
            signature = signing.sign_data(session, args.alias, content, args.reason, pin)
        out.write(signature)
    print(
        f"Signed {printable(display_path(args.file))} with {args.alias!r}; "
        f"the signature (CMS, DER) is in {printable(display_path(args.out))}."
    )
    return 0
