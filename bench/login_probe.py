#!/usr/bin/env python3
"""Start to the login dialog, and its floor; figures.py times each from Popen to the line
PAINTED that the process prints when a dialog's first paint is done, then exits.

    login_probe.py app SCREEN_CONFIG     `python -m app` as it starts (app.__main__.main
                                         with CERTDESK_STORE naming an existing store)
    login_probe.py floor SCREEN_CONFIG   a bare QApplication and QDialog, shown

The product has no hook for this, so the probe patches two Qt entry points before the
app runs, importing nothing the app would not import anyway (PySide6.QtWidgets):
QDialog.exec and QApplication.exec, whichever runs first, install an application event
filter that waits for the first paint event of a dialog. The line is printed from a 0 ms
timer after that paint event, so the paint itself is included.
"""

import cProfile
import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={sys.argv[2]}"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialog


class FirstDialogPaint(QObject):
    def __init__(self):
        super().__init__()
        self.seen = False

    def eventFilter(self, watched, event) -> bool:
        if not self.seen and event.type() == QEvent.Type.Paint and isinstance(watched, QDialog):
            self.seen = True
            QTimer.singleShot(0, painted)
        return False


def painted() -> None:
    if PROFILE is not None:
        PROFILE.disable()
        PROFILE.dump_stats(os.environ["BENCH_PROFILE"])
    print("PAINTED", flush=True)
    os._exit(0)  # the figure ends here; nothing after the paint is measured


FILTER = FirstDialogPaint()
# BENCH_PROFILE=PATH: cProfile the app's start (figures.py --profile login).
PROFILE = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None


def watch(original):
    def run(self, *args):
        QApplication.instance().installEventFilter(FILTER)
        return original(self, *args)

    return run


def watch_application(original):
    """QApplication.exec is static: called on the instance (`app.exec()`, as the console
    does once its sign-in dialog is shown), it takes no argument."""

    def run(*_instance):
        QApplication.instance().installEventFilter(FILTER)
        return original()

    return run


def main() -> int:
    if sys.argv[1] == "floor":
        app = QApplication(["floor"])
        app.installEventFilter(FILTER)
        dialog = QDialog()
        dialog.setWindowTitle("Floor")
        dialog.show()
        return app.exec()
    QDialog.exec = watch(QDialog.exec)
    QApplication.exec = watch_application(QApplication.exec)
    if PROFILE is not None:
        PROFILE.enable()
    from app.__main__ import main as app_main

    return app_main([])


if __name__ == "__main__":
    sys.exit(main())
