"""Before `make run` opens a window on Linux: are the X11 libraries Qt's xcb plugin needs
there? Qt's own message for a missing one is cryptic, so name the apt-get line instead."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

APT_LINE = (
    "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 "
    "libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 "
    "libxcb-xinerama0 libxkbcommon-x11-0 libxkbcommon0 libegl1 libgl1 libfontconfig1 "
    "libdbus-1-3"
)


def missing_libraries() -> list[str]:
    # Found without importing PySide6: app/ stays free of Qt, and the check is what
    # decides whether Qt can be loaded at all.
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    package = Path(spec.submodule_search_locations[0])
    plugin = package / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists() or not shutil.which("ldd"):
        return []
    output = subprocess.run(
        ["ldd", str(plugin)], capture_output=True, text=True, check=False
    ).stdout
    return sorted({line.split()[0] for line in output.splitlines() if "not found" in line})


def main() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    if os.environ.get("QT_QPA_PLATFORM", "xcb") not in ("xcb", ""):
        return 0
    wayland = os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland"
    if wayland and not os.environ.get("QT_QPA_PLATFORM"):
        return 0  # Qt opens its window through Wayland there, not the xcb plugin
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        print(
            "certdesk: no display (DISPLAY is not set). Run it in a desktop session, "
            "or under Xvfb: xvfb-run make run",
            file=sys.stderr,
        )
        return 1
    missing = missing_libraries()
    if missing:
        print(
            f"certdesk: Qt cannot open a window: missing system libraries "
            f"({', '.join(missing)}). Install them with:\n  {APT_LINE}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
