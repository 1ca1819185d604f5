#!/usr/bin/env python3
"""Every figure of issue 11's table, headless, at 1k, 10k, 100k and 1M certificates.

    .venv/bin/python bench/figures.py                      # make bench: all four sizes
    .venv/bin/python bench/figures.py --quick              # make bench-quick: 1k and 10k
    .venv/bin/python bench/figures.py --sizes 100000 --figures import,list
    .venv/bin/python bench/figures.py --sizes 10000 --profile import

Each figure is measured through a public face only: the `certdesk` CLI as a subprocess
(`python -m app` with this working tree first on PYTHONPATH), the GUI in a child process
(gui_probe.py, login_probe.py). Each is the median of --repeat runs, printed as

    name: value unit (target …) ok|MISS — how it was measured, its floor

grouped per size, then the growth check and a summary of every MISS. The exit status
is 0 with misses (a measurement, not a test); 1 only when the harness itself fails.
At 1k and 10k the GUI figures use the 100k targets. Stores come from stores.py's cache
(built once per size and SCHEMA_VERSION; --fresh rebuilds); each run works on a copy.

Growth check (issue item 6): for every figure measured in seconds (the product's own
time for the ratio figures) or MiB, between each size n and 10n run:
- the first step compares the values themselves: value(10n) / value(n);
- later steps compare the increase over the smallest size's value v0, which takes the
  fixed costs (interpreter start, unlock, window construction) out:
  (value(10n) - v0) / (value(n) - v0), when value(n) - v0 is above the noise
  (10% of v0 and 5 ms); else the plain ratio.
A step is flagged GROWS when it exceeds SLACK times what n log n allows per decade,
10·log(10n)/log(n) (13.3 from 1k to 10k, 12.5, then 12); SLACK allows for noise.
"""

import argparse
import itertools
import json
import math
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import stores

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
FIGURES = ("import", "list", "gui", "login")
PROFILES = ("import", "list", "gui-load", "sort", "search", "disable", "login")
SLACK = 1.25
TIMEOUT_S = 3600.0
# Unbuffered stdout makes `list --json` about 3× slower (json.dumps hands the stream tiny
# pieces); the figures are meant for a user's terminal, so the children run buffered.
# Not passed to the measured processes; PYTHONDONTWRITEBYTECODE would have each compile
# every module it imports, as an installed Certdesk never does.
DROPPED_ENV = ("PYTHONUNBUFFERED", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")

# The targets: (at 100k, at 1M); None where the issue has none.
TARGETS = {
    "import": (1.5, 1.5),
    "list --json": (1.5, 1.5),
    "gui first screen": (0.5, 0.5),
    "gui all rows": (1.0, 5.0),
    "gui stall": (0.05, 0.05),
    "sort": (0.05, 0.5),
    "search": (0.03, 0.2),
    "disable 10,000": (0.5, None),
    "RSS after loading": (250.0, 1536.0),
    "start to login dialog": (0.4, 0.4),
}


@dataclass
class Figure:
    name: str
    value: float  # nan when it could not be measured
    unit: str
    detail: str = ""
    growth_value: float | None = None  # in seconds or MiB, for the growth check
    target: float | None = None

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value == self.value and self.value <= self.target


@dataclass
class Run:
    wall: float
    returncode: int | None  # None: killed at the timeout
    stdout: Path
    stderr: Path

    def tail(self) -> str:
        return " | ".join(self.stderr.read_text(errors="replace").strip().splitlines()[-3:])


@dataclass
class Context:
    args: argparse.Namespace
    work: Path
    env: dict[str, str]
    screen: Path
    repeat: int = 3  # runs per figure at the size being measured
    counter: int = 0
    results: dict[int, list[Figure]] = field(default_factory=dict)

    def logs(self, label: str) -> tuple[Path, Path]:
        self.counter += 1
        base = self.work / "logs" / f"{self.counter:04d}-{label}"
        return base.with_suffix(".out"), base.with_suffix(".err")


def python() -> list[str]:
    return [sys.executable]


def certdesk() -> list[str]:
    return [sys.executable, "-m", "app"]


def run(ctx: Context, argv: list[str], label: str, cwd: Path | None = None, **env) -> Run:
    out, err = ctx.logs(label)
    with out.open("wb") as fout, err.open("wb") as ferr:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdout=fout,
            stderr=ferr,
            stdin=subprocess.DEVNULL,
            env=ctx.env | env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=ctx.args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            code = None
        return Run(time.perf_counter() - start, code, out, err)


def checked(run_: Run, what: str) -> Run:
    if run_.returncode is None:
        raise Timeout(f"{what}: still running after {run_.wall:.0f} s, stopped")
    if run_.returncode != 0:
        raise SystemExit(f"{what} failed (exit {run_.returncode}): {run_.tail()}")
    return run_


class Timeout(Exception):
    pass


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def arg_budget(env: dict[str, str]) -> int:
    """Bytes of argv one exec may take, after the environment and a safety margin."""
    try:
        limit = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError):
        limit = 128 * 1024
    return limit - sum(len(k) + len(v) + 10 for k, v in env.items()) - 8 * 1024


def split_args(prefix: list[str], names: list[str], budget: int) -> list[list[str]]:
    """The file names in as few command lines as the argv limit allows."""
    cost = lambda arg: len(arg.encode()) + 9  # noqa: E731 - the string, its NUL, its pointer
    base = sum(map(cost, prefix))
    chunks: list[list[str]] = [[]]
    used = base
    for name in names:
        if chunks[-1] and used + cost(name) > budget:
            chunks.append([])
            used = base
        chunks[-1].append(name)
        used += cost(name)
    return chunks


def fresh_store(ctx: Context, label: str) -> Path:
    folder = ctx.work / f"fresh-{label}-{ctx.counter}"
    shutil.rmtree(folder, ignore_errors=True)
    checked(
        run(ctx, [*certdesk(), "--store", str(folder), "init", "--admin", stores.ADMIN], "init"),
        "certdesk init",
    )
    return folder


def profile_argv(ctx: Context, label: str) -> tuple[list[str], Path]:
    path = ctx.work / f"{label}.prof"
    return [sys.executable, "-m", "cProfile", "-o", str(path)], path


def print_profile(path: Path, title: str) -> None:
    print(f"\n--- cProfile of {title}: top 25 by own time ---", flush=True)
    stats = pstats.Stats(str(path))
    stats.strip_dirs().sort_stats("tottime").print_stats(25)
    sys.stdout.flush()


# -- the CLI figures ------------------------------------------------------------------


def import_figure(ctx: Context, cached: stores.Cached) -> list[Figure]:
    names = [p.name for p in cached.bundles]
    pem = cached.bundles[0].parent
    product, floor, imported = [], [], None
    profiling = ctx.args.profile == "import"
    for _ in range(1 if profiling else ctx.repeat):
        store = fresh_store(ctx, "import")
        prefix = [*certdesk(), "--store", str(store), "import"]
        if profiling:
            head, prof = profile_argv(ctx, "import")
            prefix = [*head, "-m", "app", "--store", str(store), "import"]
        chunks = split_args(prefix, names, arg_budget(ctx.env))
        runs = [
            checked(run(ctx, [*prefix, *c], "import", cwd=pem), "certdesk import") for c in chunks
        ]
        product.append(sum(r.wall for r in runs))
        imported = sum(imported_count(r) for r in runs)
        shutil.rmtree(store, ignore_errors=True)
        if profiling:
            print_profile(prof, f"certdesk import of {cached.n:,} certificates")
            return []
        store = fresh_store(ctx, "floor")
        argv = [*python(), str(BENCH / "floors.py"), "import", str(store), *names]
        floor.append(checked(run(ctx, argv, "import-floor", cwd=pem), "the import floor").wall)
        shutil.rmtree(store, ignore_errors=True)
    how = (
        f"{len(names)} bundles of {stores.BUNDLE:,} (the import refuses files over 20 MiB), "
        f"{len(chunks)} command(s)"
        if len(names) > 1
        else "one bundle"
    )
    check = "" if imported == cached.n else f"; WARNING: imported {imported}, not {cached.n:,}"
    p, f = median(product), median(floor)
    return [
        Figure(
            "import",
            p / f,
            "× floor",
            f"certdesk import {p:.2f} s, floor {f:.2f} s (parse + one transaction, "
            f"interpreter start included); {how}{check}",
            growth_value=p,
        )
    ]


def imported_count(run_: Run) -> int | None:
    for line in reversed(run_.stdout.read_text(errors="replace").splitlines()):
        if line.startswith("Imported "):
            return int(line.split()[1])
    return None


def list_figure(ctx: Context, store: Path, n: int) -> list[Figure]:
    product, floor = [], []
    profiling = ctx.args.profile == "list"
    for _ in range(1 if profiling else ctx.repeat):
        head, prof = profile_argv(ctx, "list") if profiling else ([], None)
        argv = [*head, "-m", "app"] if profiling else certdesk()
        mine = checked(
            run(ctx, [*argv, "--store", str(store), "list", "--json"], "list"),
            "certdesk list --json",
        )
        product.append(mine.wall)
        if profiling:
            print_profile(prof, f"certdesk list --json of {n:,} certificates")
            return []
        argv = [*python(), str(BENCH / "floors.py"), "list", str(store)]
        bare = checked(run(ctx, argv, "list-floor"), "the list floor")
        floor.append(bare.wall)
        if len(floor) < ctx.repeat:  # only the last pair is compared: 1M rows is 900 MB each
            mine.stdout.unlink()
            bare.stdout.unlink()
    same = same_document(mine.stdout, bare.stdout)
    mine.stdout.unlink()
    bare.stdout.unlink()
    p, f = median(product), median(floor)
    return [
        Figure(
            "list --json",
            p / f,
            "× floor",
            f"certdesk list --json > file {p:.2f} s, floor {f:.2f} s (one SELECT + json.dumps, "
            f"same unlock); {same}",
            growth_value=p,
        )
    ]


def same_document(mine: Path, floor: Path) -> str:
    if mine.read_bytes() == floor.read_bytes():
        return "outputs identical"
    if json.loads(mine.read_bytes()) == json.loads(floor.read_bytes()):
        return "same JSON, other bytes"
    return "WARNING: the outputs differ (the floor's document is not the CLI's)"


# -- the GUI figures ------------------------------------------------------------------


def gui_figures(ctx: Context, store: Path, n: int) -> list[Figure]:
    runs = []
    profiling = ctx.args.profile in ("gui-load", "sort", "search", "disable")
    for _ in range(1 if profiling else ctx.repeat):
        argv = [*python(), str(BENCH / "gui_probe.py"), str(store), str(n), str(ctx.screen)]
        extra = {}
        if profiling:
            prof = ctx.work / "gui.prof"
            extra = {"BENCH_PROFILE": f"{ctx.args.profile}:{prof}"}
        child = checked(run(ctx, argv, "gui", **extra), "gui_probe.py")
        if profiling:
            print_profile(prof, f"{ctx.args.profile} at {n:,} (the GUI thread)")
            return []
        runs.append(json.loads(child.stdout.read_text().strip().splitlines()[-1]))
    if not runs:
        return []

    def med(key: str) -> float:
        return median([r[key] for r in runs])

    def med_of(key: str) -> dict[str, float]:
        return {k: median([r[key][k] for r in runs]) for k in runs[0][key]}

    sorts, searches = med_of("sort_ms"), med_of("search_ms")
    worst_sort = max(sorts, key=sorts.get)
    worst_search = max(searches, key=searches.get)
    repaint = med("repaint_ms")
    every_sort = ", ".join(f"{k} {v:.0f}" for k, v in sorts.items())
    every_search = ", ".join(f"{k} {v:.1f}" for k, v in searches.items())
    disabled = runs[0]["disabled"]
    totals = {r["total"] for r in runs}
    count = "" if totals == {n} else f"; WARNING: the model held {totals}, not {n:,}"
    return [
        Figure(
            "gui first screen",
            med("first_screen_s"),
            "s",
            f"MainWindow() to the first paint with the visible rows in (constructor "
            f"{med('construct_s'):.2f} s of it){count}",
            growth_value=med("first_screen_s"),
        ),
        Figure(
            "gui all rows",
            med("all_rows_s"),
            "s",
            "MainWindow() to CertificatesView.loaded, model.total_count() == N; the keys "
            f"checked for equal ones after it at {med('checked_s'):.2f} s",
            growth_value=med("all_rows_s"),
        ),
        Figure(
            "gui stall",
            med("stall_ms") / 1000,
            "s",
            "longest lateness of a 10 ms timer on the GUI thread, window shown to the keys checked",
        ),
        Figure(
            "sort",
            sorts[worst_sort] / 1000,
            "s",
            f"worst first header click + repaint: {worst_sort}; bare repaint {repaint:.1f} ms; "
            f"every column (ms): {every_sort}",
            growth_value=sorts[worst_sort] / 1000,
        ),
        Figure(
            "search",
            searches[worst_search] / 1000,
            "s",
            f"worst keystroke (set_filter + repaint): {worst_search}; bare repaint "
            f"{repaint:.1f} ms; every keystroke (ms): {every_search}",
            growth_value=searches[worst_search] / 1000,
        ),
        Figure(
            "disable 10,000",
            med("disable_s"),
            "s",
            f"{disabled:,} checked enabled rows, Disable action until the model reads them "
            "disabled",
            growth_value=med("disable_s"),
        ),
        Figure(
            "RSS after loading",
            med("rss_mib"),
            "MiB",
            f"VmRSS of the GUI process at loaded; signed in, before the window "
            f"{med('rss_floor_mib'):.0f} MiB",
            growth_value=med("rss_mib") - med("rss_floor_mib"),
        ),
    ]


def login_figure(ctx: Context, store: Path) -> list[Figure]:
    probe = str(BENCH / "login_probe.py")
    app, floor = [], []
    profiling = ctx.args.profile == "login"
    for _ in range(1 if profiling else ctx.repeat):
        extra = {"CERTDESK_STORE": str(store)}
        if profiling:
            prof = ctx.work / "login.prof"
            extra["BENCH_PROFILE"] = str(prof)
        mine = checked(
            run(ctx, [*python(), probe, "app", str(ctx.screen)], "login", **extra),
            "login_probe.py app",
        )
        if "PAINTED" not in mine.stdout.read_text():
            raise SystemExit(f"the login dialog never painted: {mine.tail()}")
        app.append(mine.wall)
        if profiling:
            print_profile(prof, "the start to the login dialog")
            return []
        bare = checked(
            run(ctx, [*python(), probe, "floor", str(ctx.screen)], "login-floor"),
            "login_probe.py floor",
        )
        floor.append(bare.wall)
    return [
        Figure(
            "start to login dialog",
            median(app),
            "s",
            f"python -m app until the LoginDialog's first paint; floor (bare QApplication + "
            f"QDialog shown) {median(floor):.2f} s",
        )
    ]


# -- running and reporting --------------------------------------------------------------


def with_targets(figures: list[Figure], n: int) -> list[Figure]:
    for f in figures:
        at_100k, at_1m = TARGETS[f.name]
        f.target = at_1m if n >= 1_000_000 else at_100k
    return figures


def show(value: float, unit: str) -> str:
    if value != value:
        return f"— {unit}"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "× floor":
        return f"{value:.2f}× floor"
    return f"{value:.0f} {unit}"


def line(f: Figure) -> str:
    if f.target is None:
        target, verdict = "target —", "n/a"
    else:
        sign = "<" if f.name == "gui stall" else "≤"
        target, verdict = f"target {sign} {show(f.target, f.unit)}", "ok" if f.ok else "MISS"
    return f"{f.name}: {show(f.value, f.unit)} ({target}) {verdict} — {f.detail}"


def measure_size(ctx: Context, n: int) -> list[Figure]:
    cached = stores.ensure(n, ctx.args.cache, ctx.args.fresh, log=print)
    store = stores.working_copy(cached, ctx.work)
    wanted = ctx.args.figures
    figures: list[Figure] = []
    steps = (
        ("import", lambda: import_figure(ctx, cached)),
        ("list", lambda: list_figure(ctx, store, n)),
        ("gui", lambda: gui_figures(ctx, store, n)),
        ("login", lambda: login_figure(ctx, store)),
    )
    for name, step in steps:
        if name not in wanted:
            continue
        try:
            made = with_targets(step(), n)
        except Timeout as stopped:
            made = with_targets([Figure(stopped_name(name), float("nan"), "s", str(stopped))], n)
        for f in made:
            print(line(f), flush=True)
        figures.extend(made)
    shutil.rmtree(store, ignore_errors=True)
    return figures


def stopped_name(step: str) -> str:
    return {"import": "import", "list": "list --json", "gui": "gui all rows"}.get(
        step, "start to login dialog"
    )


def growth(results: dict[int, list[Figure]]) -> list[str]:
    sizes = sorted(results)
    if len(sizes) < 2:
        return []
    names = [f.name for f in results[sizes[0]] if f.growth_value is not None]
    lines = []
    for name in names:
        values = {}
        for n in sizes:
            for f in results[n]:
                if (
                    f.name == name
                    and f.growth_value is not None
                    and f.growth_value == f.growth_value
                ):
                    values[n] = f.growth_value
        steps, flagged = [], False
        ordered = sorted(values)
        v0 = values[ordered[0]] if ordered else 0.0
        for small, big in itertools.pairwise(ordered):
            allowed = (big / small) * (math.log(big) / math.log(small)) * SLACK
            noise = max(0.1 * v0, 0.005)
            if small != ordered[0] and values[small] - v0 > noise:
                ratio = (values[big] - v0) / (values[small] - v0)
                how = "increase"
            else:
                ratio = values[big] / values[small] if values[small] > 0 else float("inf")
                how = "value"
            grows = ratio > allowed
            flagged |= grows
            flag = " GROWS" if grows else ""
            steps.append(f"{small:,}→{big:,} ×{ratio:.1f} ({how}, ≤ {allowed:.1f}){flag}")
        if steps:
            verdict = "GROWS faster than n log n" if flagged else "ok"
            lines.append(f"growth {name}: {'; '.join(steps)} — {verdict}")
    return lines


def environment(work: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CERTDESK_", "XDG_")) and k not in DROPPED_ENV
    }
    xdg = work / "xdg"
    env |= {
        "PYTHONPATH": str(ROOT),  # the working tree's code, not an installed copy
        "CERTDESK_USER": stores.ADMIN,
        "CERTDESK_PASSWORD": stores.PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_DATA_HOME": str(xdg / "data"),
        "XDG_CONFIG_HOME": str(xdg / "config"),
        "XDG_CACHE_HOME": str(xdg / "cache"),
        "XDG_RUNTIME_DIR": str(xdg / "runtime"),
    }
    (xdg / "runtime").mkdir(parents=True, mode=0o700)
    return env


def screen_config(work: Path) -> Path:
    """One offscreen screen larger than the 1024×700 window, so nothing shrinks it."""
    screen = {"name": "bench", "x": 0, "y": 0, "width": 1280, "height": 800}
    screen |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    path = work / "screen.json"
    path.write_text(json.dumps({"windowFrameMargins": False, "screens": [screen]}))
    return path


def refuse_real_folders(*folders: Path) -> None:
    from app.store_paths import default_store_dir

    real = default_store_dir().resolve()
    for folder in folders:
        folder = folder.resolve()
        if folder == real or real in folder.parents or folder in real.parents:
            raise SystemExit(f"refusing to run: {folder} overlaps the real data folder {real}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated (default 1000,10000,100000,1000000)")
    parser.add_argument("--quick", action="store_true", help="1k and 10k, 2 runs each")
    parser.add_argument("--repeat", type=int, help="runs per figure (3; 1 at 1M; 2 quick)")
    parser.add_argument("--figures", default=",".join(FIGURES), help=f"of {','.join(FIGURES)}")
    parser.add_argument("--cache", type=Path, default=stores.default_cache(), help="store cache")
    parser.add_argument("--work", type=Path, help="work folder, kept (default: temporary)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached stores")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="per process, s")
    parser.add_argument("--profile", choices=PROFILES, help="cProfile this one figure")
    args = parser.parse_args()
    if args.sizes:
        args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    else:
        args.sizes = list(QUICK_SIZES if args.quick else SIZES)
    args.figures = set(args.figures.split(","))
    if args.profile:
        args.figures = {"gui" if args.profile in PROFILES[2:6] else args.profile}
    unknown = args.figures - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    return args


def main() -> int:
    args = parse_args()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="run-", dir=args.work))
    else:
        work = Path(tempfile.mkdtemp(prefix="certdesk-bench-"))
    refuse_real_folders(work, args.cache)
    (work / "logs").mkdir()
    ctx = Context(args, work, environment(work), screen_config(work))
    print(
        f"Certdesk bench: sizes {', '.join(f'{n:,}' for n in args.sizes)}; Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPU(s), Qt offscreen; cache {args.cache}"
    )
    try:
        for n in args.sizes:
            repeat = args.repeat or (2 if args.quick else 1 if n >= 1_000_000 else 3)
            ctx.repeat = repeat
            column = "1M" if n >= 1_000_000 else "100k"
            note = "" if n >= 100_000 else " (the GUI figures use the 100k targets)"
            print(
                f"\n== {n:,} certificates: median of {repeat}; targets of the issue's "
                f"{column} column{note} ==",
                flush=True,
            )
            ctx.results[n] = measure_size(ctx, n)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.profile:
        return 0
    lines = growth(ctx.results)
    if lines:
        print("\n== growth per decade (rule in bench/figures.py's docstring) ==")
        print("\n".join(lines))
    misses = [
        f"  {n:,}: {f.name} {show(f.value, f.unit)}"
        for n, figures in ctx.results.items()
        for f in figures
        if f.ok is False
    ]
    misses += [f"  {ln.split(':')[0]}" for ln in lines if ln.endswith("n log n")]
    print("\n== summary ==")
    print(f"{len(misses)} MISS" + (":" if misses else ": every figure meets its target"))
    print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
