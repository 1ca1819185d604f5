"""The check before a window opens (`make run`, `certdesk`): the X11 libraries Qt's xcb
plugin needs are named when they are missing, and only when Qt would use that plugin."""

import sys

import pytest

from app import qtcheck

MISSING = ["libxcb-cursor.so.0"]


@pytest.fixture
def linux_without_xcb_cursor(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(qtcheck, "missing_libraries", lambda: MISSING)
    for variable in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_an_x11_session_missing_a_library_is_told_the_install_line(
    linux_without_xcb_cursor, capsys
):
    linux_without_xcb_cursor.setenv("DISPLAY", ":0")
    assert qtcheck.main() == 1
    said = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in said and qtcheck.APT_LINE in said


def test_a_wayland_session_opens_through_wayland_and_is_not_stopped(
    linux_without_xcb_cursor, capsys
):
    linux_without_xcb_cursor.setenv("WAYLAND_DISPLAY", "wayland-0")
    linux_without_xcb_cursor.setenv("XDG_SESSION_TYPE", "wayland")
    assert qtcheck.main() == 0 and capsys.readouterr().err == ""
    linux_without_xcb_cursor.setenv("QT_QPA_PLATFORM", "xcb")  # asked for X11 after all
    linux_without_xcb_cursor.setenv("DISPLAY", ":0")
    assert qtcheck.main() == 1


def test_no_display_at_all_says_how_to_run_it(linux_without_xcb_cursor, capsys):
    assert qtcheck.main() == 1
    assert "xvfb-run make run" in capsys.readouterr().err
