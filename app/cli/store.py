"""The store as a whole: `init`, `check`, `backup`, `restore`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.output import Failed, problem
from app.cli.signin import create_store, login_name, new_password, signed_in
from app.errors import CertdeskError
from app.services import backup, integrity


def register(commands: Commands) -> None:
    p = commands.add("init", "create the store and its administrator", run_init)
    p.add_argument("--admin", metavar="NAME", help="administrator's user name (default: login)")
    commands.add("check", "integrity of the database, key slots, keys and audit log", run_check)
    p = commands.add("backup", "the whole store in one encrypted file", run_backup)
    p.add_argument("--out", required=True, metavar="FILE")
    p = commands.add("restore", "a backup into a new or empty --store", run_restore)
    p.add_argument("archive", metavar="FILE")


def run_init(args, folder: Path) -> int:
    admin = args.admin or login_name()
    if not admin:
        raise CertdeskError("--admin: no login name to default to; give one")
    password = new_password("CERTDESK_PASSWORD", admin, f"New password for {admin}: ")
    create_store(folder, admin, password)
    print(f"Created the store in {folder}; {admin} is its Administrator.")
    print("Nothing recovers a lost password: keep a backup of the store and its password.")
    return 0


def run_check(args, folder: Path) -> int:
    with signed_in(folder) as session:
        problems = integrity.check_store(session)
    for found in problems:
        problem(found)
    if problems:
        problem(
            "the store is damaged: copy the store folder aside, then restore the latest "
            "backup into a new folder (`certdesk restore FILE --store NEW`)"
        )
        raise Failed
    print("The store is intact: database, key slots, sealed keys and audit chain.")
    return 0


def run_backup(args, folder: Path) -> int:
    with signed_in(folder) as session:
        out = backup.backup_store(session, Path(args.out))
    print(f"Wrote the backup to {out}; it opens with the same users' passwords.")
    return 0


def run_restore(args, folder: Path) -> int:
    backup.restore_store(folder, Path(args.archive))
    print(f"Restored the store into {folder}; sign in as before.")
    return 0
