#!/usr/bin/env python3
"""Import N certificates through the real `certdesk` CLI and time it.

    .venv/bin/python bench/import_bench.py 20000            # N separate PEM files
    .venv/bin/python bench/import_bench.py 20000 --bundle   # one PEM bundle
    .venv/bin/python bench/import_bench.py 2000 --keep /tmp/bench-store

Everything happens in a fresh temporary folder (store, certificates, XDG folders), removed
at the end; `--keep DIR` puts it in DIR instead (DIR must be new or empty) and keeps it.
The keyring is the fail backend, so the real one is never touched. Every `certdesk` call
is a real subprocess: Python start-up and the Argon2id unlock are part of the figures.
"""

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import certfactory

PASSWORD = "bench-password-123"
ADMIN = "bench"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    argv: list[str]
    wall: float
    returncode: int
    stdout: Path
    stderr: Path
    cpu: float | None = None  # user + system seconds of the child
    max_rss_mib: float | None = None

    def check(self, what: str) -> None:
        if self.returncode != 0:
            tail = self.stderr.read_text(errors="replace").strip().splitlines()[-15:]
            sys.exit(f"{what} failed (exit {self.returncode}):\n  " + "\n  ".join(tail))


def certdesk_command() -> list[str]:
    """The venv's console script, else `python -m app` with this interpreter."""
    scripts = Path(sys.executable).parent
    for name in ("certdesk", "certdesk.exe"):
        if (scripts / name).exists():
            return [str(scripts / name)]
    return [sys.executable, "-m", "app"]


def real_store_dir() -> Path | None:
    try:
        import platformdirs

        return platformdirs.user_data_path("certdesk", appauthor=False).resolve()
    except Exception:
        return None


# Unbuffered stdout (common in containers and CI) makes `list --json` about 3× slower:
# json.dump with indent hands the stream some 75 tiny pieces per certificate, each then a
# write(2). The figures are meant for a user's terminal, so the children run buffered.
DROPPED_ENV = ("PYTHONUNBUFFERED",)


def bench_env(work: Path, store: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CERTDESK_") and k not in DROPPED_ENV
    }
    env.update(
        CERTDESK_STORE=str(store),
        CERTDESK_USER=ADMIN,
        CERTDESK_PASSWORD=PASSWORD,
        CERTDESK_DEBUG="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        XDG_DATA_HOME=str(work / "xdg" / "data"),
        XDG_CONFIG_HOME=str(work / "xdg" / "config"),
        XDG_CACHE_HOME=str(work / "xdg" / "cache"),
    )
    return env


def run(argv: list[str], env: dict, logs: Path, label: str, cwd: Path | None = None) -> Run:
    """Run one command with its output in files; wall time, and CPU/RSS where wait4 exists."""
    out, err = logs / f"{label}.out", logs / f"{label}.err"
    with out.open("wb") as fout, err.open("wb") as ferr:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=fout, stderr=ferr, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
            return Run(argv, wall, proc.returncode, out, err, usage.ru_utime + usage.ru_stime, rss)
        proc.wait()
        return Run(argv, time.perf_counter() - start, proc.returncode, out, err)


def arg_budget(env: dict[str, str]) -> int:
    """Bytes of argv one exec may take, after the environment and a safety margin."""
    if os.name == "nt":
        return 32_767 - 2_048  # CreateProcess's command-line limit, in characters
    try:
        limit = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        limit = 128 * 1024
    env_cost = sum(len(k) + len(v) + 2 + 8 for k, v in env.items())
    return limit - env_cost - 8 * 1024


def arg_cost(arg: str) -> int:
    if os.name == "nt":
        return len(arg) + 3  # quotes and a space
    return len(arg.encode()) + 1 + 8  # the string, its NUL, its pointer


def split_args(prefix: list[str], files: list[str], budget: int) -> list[list[str]]:
    base = sum(arg_cost(a) for a in prefix)
    if base >= budget:
        sys.exit("the argument budget is smaller than the command itself")
    chunks: list[list[str]] = []
    current: list[str] = []
    used = base
    for name in files:
        cost = arg_cost(name)
        if current and used + cost > budget:
            chunks.append(current)
            current, used = [], base
        current.append(name)
        used += cost
    if current:
        chunks.append(current)
    return chunks


def folder_size(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def mib(n: float) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def describe(run_: Run) -> str:
    extra = []
    if run_.cpu is not None:
        extra.append(f"CPU {run_.cpu:.2f} s")
    if run_.max_rss_mib is not None:
        extra.append(f"max RSS {run_.max_rss_mib:.0f} MiB")
    return f"{run_.wall:8.3f} s" + (f"   ({', '.join(extra)})" if extra else "")


def prepare_workdir(keep: str | None) -> tuple[Path, bool]:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="certdesk-bench-")).resolve(), True
    work = Path(keep).expanduser().resolve()
    if work.exists() and any(work.iterdir()):
        sys.exit(f"--keep {work}: the folder is not empty; give a new or empty one")
    work.mkdir(parents=True, exist_ok=True)
    return work, False


def print_profile(path: Path, top: int = 25) -> None:
    stats = pstats.Stats(str(path))
    stats.strip_dirs()
    print("\n--- cProfile of the import, by own time ---")
    stats.sort_stats("tottime").print_stats(top)
    print("--- by cumulative time ---")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many certificates")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--files", action="store_true", help="N separate PEM files (default)")
    mode.add_argument("--bundle", action="store_true", help="one PEM file holding all N")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (store, files)")
    parser.add_argument(
        "--arg-limit",
        type=int,
        metavar="BYTES",
        help="pretend the OS allows only this many argv bytes (to exercise the splitting)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the import under cProfile (slower) and print its top functions",
    )
    args = parser.parse_args()
    if args.n < 1:
        parser.error("N must be at least 1")

    work, temporary = prepare_workdir(args.keep)
    store, certs_dir, logs = work / "store", work / "certs", work / "logs"
    logs.mkdir()
    real = real_store_dir()
    if real is not None and (store == real or real in store.parents or store in real.parents):
        sys.exit(f"refusing to run: {store} overlaps the real data folder {real}")
    env = bench_env(work, store)
    certdesk = certdesk_command()
    mode_name = "bundle" if args.bundle else "files"
    print(f"Certdesk import benchmark: {args.n:,} certificates as {mode_name}")
    print(f"  work folder  {work}{'  (temporary)' if temporary else '  (kept)'}")
    print(f"  certdesk     {' '.join(certdesk)}")
    print(f"  Python       {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPU(s)")
    dropped = [k for k in DROPPED_ENV if k in os.environ]
    if dropped:
        print(f"  environment  {', '.join(dropped)} removed for the certdesk processes")

    try:
        start = time.perf_counter()
        batch = certfactory.generate(args.n)
        if args.bundle:
            files = [certfactory.write_bundle(batch, certs_dir / "bundle.pem").name]
        else:
            files = certfactory.write_files(batch, certs_dir)
        generation = time.perf_counter() - start
        written = sum((certs_dir / f).stat().st_size for f in files)
        print(
            f"\nGenerated {args.n:,} certificates ({batch.expired:,} expired, "
            f"{batch.expiring:,} expiring within {certfactory.EXPIRING_DAYS} days) into "
            f"{len(files):,} file(s), {mib(written)}: {generation:.2f} s (not counted)"
        )

        init = run([*certdesk, "--store", str(store), "init", "--admin", ADMIN], env, logs, "init")
        init.check("certdesk init")
        empty = run([*certdesk, "--store", str(store), "list", "--json"], env, logs, "list-empty")
        empty.check("certdesk list --json (empty store)")

        prefix = [*certdesk, "--store", str(store), "import"]
        if args.profile:
            prof = logs / "import.prof"
            prefix = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "app"]
            prefix += ["--store", str(store), "import"]
        budget = args.arg_limit or arg_budget(env)
        chunks = split_args(prefix, files, budget)
        runs = []
        for number, chunk in enumerate(chunks, start=1):
            r = run([*prefix, *chunk], env, logs, f"import-{number}", cwd=certs_dir)
            r.check(f"certdesk import (invocation {number} of {len(chunks)})")
            runs.append(r)
            if args.profile:
                break  # one invocation is enough to profile
        import_wall = sum(r.wall for r in runs)
        summaries = [r.stdout.read_text().strip().splitlines()[-1] for r in runs]
        imported = 0
        for line in summaries:
            if line.startswith("Imported "):
                imported += int(line.split()[1])
        sizes = folder_size(store)

        listing = run([*certdesk, "--store", str(store), "list", "--json"], env, logs, "list")
        listing.check("certdesk list --json")
        start = time.perf_counter()
        rows = json.loads(listing.stdout.read_bytes())
        parse_json = time.perf_counter() - start
        json_size = listing.stdout.stat().st_size

        print("\nThrough the CLI (each a separate process, wall time):")
        print(f"  certdesk init                 {describe(init)}")
        print(f"  certdesk list --json (empty)  {describe(empty)}   <- start-up + unlock cost")
        if len(runs) == 1:
            print(f"  certdesk import               {describe(runs[0])}")
        else:
            print(f"  certdesk import               {import_wall:8.3f} s   (sum of {len(runs)})")
            print(
                f"    the {len(files):,} file names exceed one command line "
                f"({budget:,} bytes of argv): split into {len(runs)} invocations, times summed"
            )
            for number, r in enumerate(runs, start=1):
                print(f"      invocation {number:>2}: {describe(r)}")
            print(f"      total         {import_wall:8.3f} s")
        if args.profile:
            print("    (under cProfile: slower than a plain run; only the first invocation)")
        rate = imported / import_wall if import_wall else float("nan")
        print(f"    imported {imported:,} of {args.n:,}: {rate:,.0f} certificates/s")
        net = import_wall - len(runs) * empty.wall
        if net > 0:
            print(
                f"    less {len(runs)}× start-up/unlock ({empty.wall:.2f} s each): "
                f"{imported / net:,.0f} certificates/s"
            )
        print(f"  certdesk list --json          {describe(listing)}")
        print(
            f"    {len(rows):,} entries, {mib(json_size)} of JSON "
            f"(parsed here in {parse_json:.2f} s)"
        )

        total = sum(sizes.values())
        print(
            f"\nStore on disk: {mib(total)} ({total / max(imported, 1):,.0f} bytes per certificate)"
        )
        for name, size in sizes.items():
            print(f"  {name:<24} {mib(size):>12}")

        problems = []
        expected = args.n if len(runs) == len(chunks) or args.bundle else len(chunks[0])
        if imported != expected:
            problems.append(f"imported {imported:,}, expected {expected:,}")
        if len(rows) != args.n and not args.profile:
            problems.append(f"list --json gave {len(rows):,} entries, expected {args.n:,}")
        aliases = {r["alias"] for r in rows}
        if len(aliases) != len(rows):
            problems.append(f"only {len(aliases):,} distinct aliases among {len(rows):,} rows")
        now = batch.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        expired = sum(1 for r in rows if r["valid_to"] < now)
        if not args.profile and expired != batch.expired:
            problems.append(f"{expired:,} rows expired, expected {batch.expired:,}")
        print("\nChecks: " + ("all passed" if not problems else "FAILED"))
        for problem in problems:
            print(f"  - {problem}")
        if args.profile:
            print_profile(prof)
        return 1 if problems else 0
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nKept {work}: `certdesk --store {store} list` (password {PASSWORD!r})")


if __name__ == "__main__":
    sys.exit(main())
