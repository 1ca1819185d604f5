#!/usr/bin/env python3
"""Keeping the place in the table across a reload (ui.store_watch.kept_place) with many
rows selected, beside the floor: the same reload (model.set_rows) without keeping it.

    .venv/bin/python bench/reload_place_bench.py            # 40,000 selected of 100,000
    .venv/bin/python bench/reload_place_bench.py 100000 --selected 40000

Rows are plain records in a RowsModel in a real QTableView (offscreen). Each shape of
selection is timed as kept_place around set_rows; "× floor" is that time over the bare
set_rows of the same run. Finding the rows again once per key was quadratic: 40,000
selected rows of 100,000 froze the window for ~13 s.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QApplication, QTableView

from ui.rows_model import Column, RowsModel
from ui.store_watch import kept_place


@dataclass(frozen=True)
class Record:
    id: int
    name: str


COLUMNS = (Column("Name", display=lambda r: r.name, sort_key=lambda r: r.name),)


def timed(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def select(table: QTableView, rows: list[int]) -> None:
    model = table.model()
    selection = QItemSelection()
    for row in rows:
        selection.select(model.index(row, 0), model.index(row, 0))
    table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="rows (100000)")
    parser.add_argument("--selected", type=int, default=40_000, help="selected rows (40000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per shape (3)")
    args = parser.parse_args()
    if not 0 < args.selected <= args.n // 2:
        parser.error("--selected must be between 1 and half of N")
    app = QApplication.instance() or QApplication(["reload_place_bench"])
    rows = [Record(i, f"Row {i:06d}") for i in range(args.n)]
    model = RowsModel(COLUMNS)
    model.set_rows(rows)
    table = QTableView()
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setModel(model)
    table.resize(800, 600)
    table.show()
    app.processEvents()

    floor = timed(lambda: model.set_rows(rows), args.repeat)
    k = args.selected
    shapes = {
        f"one run of {k:,} (Shift-click)": list(range(k)),
        f"{k:,} rows, every other one": list(range(0, 2 * k, 2)),
        f"{k:,} rows in 100 runs": [
            row
            for start in range(0, args.n, args.n // 100)
            for row in range(start, start + k // 100)
        ],
    }
    print(f"Keeping the place across a reload: {k:,} selected of {args.n:,} rows")
    print(f"  {'selection':<36} {'seconds':>8} {'× floor':>8}")
    print(f"  {'set_rows alone (floor)':<36} {floor:>8.3f} {1:>8.2f}")
    for name, chosen in shapes.items():

        def reload():
            with kept_place(table):
                model.set_rows(rows)

        select(table, chosen)
        seconds = timed(reload, args.repeat)
        kept = len(table.selectionModel().selectedRows())
        assert kept == len(chosen), f"{name}: {kept:,} rows selected after the reload"
        print(f"  {name:<36} {seconds:>8.3f} {seconds / floor:>8.2f}")
    table.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
