"""The ``ann-designer`` launcher (designer.app.main), desktop files, settings, errors."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from core.log_setup import setup_logging, stop_logging
from designer import app, desktop, error_dialog

ROOT = Path(__file__).resolve().parents[2]


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ann-designer: error: "), err
    return lines[0]


@pytest.fixture
def opened(monkeypatch) -> list:
    """Record the windows the launcher would open instead of opening them."""
    calls: list = []
    monkeypatch.setattr(app, "run", lambda path=None, log_file=None: calls.append(path) or 0)
    return calls


def test_no_arguments_or_a_project_path_open_the_window(opened, tmp_path, capsys):
    project = tmp_path / "p.annproj"
    assert app.main(["new", "--example", "xor", "-o", str(project)]) == 0  # a command
    assert app.main([]) == 0
    assert app.main([str(project)]) == 0
    assert app.main(["-v", str(project)]) == 0
    stop_logging()
    assert opened == [None, str(project), str(project)]


def test_a_missing_project_is_one_error_line(opened, capsys):
    assert app.main(["missing.annproj"]) == 1
    assert "missing.annproj" in one_error_line(capsys.readouterr().err)
    assert opened == []


def test_without_a_display_the_launcher_says_so_in_one_line(opened, monkeypatch, capsys):
    """On a Linux server `ann-designer` alone would abort inside Qt (core dump)."""
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert app.main([]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "no display" in line and "--help" in line and opened == []
    monkeypatch.setenv("DISPLAY", ":0")
    assert app.main([]) == 0 and opened == [None]


def test_commands_go_to_the_command_line_without_loading_qt():
    code = ("import sys; from designer.app import main; status = main(['examples']); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')]; "
            "assert not bad, bad; sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "spiral *" in result.stdout


def test_python_m_designer_is_the_launcher():
    result = subprocess.run([sys.executable, "-m", "designer", "--version"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("ann-designer "), result


# -------------------------------------------------------------------- desktop files
def test_install_desktop_writes_entry_icons_and_file_type(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)  # no cache tools
    assert app.main(["--install-desktop"]) == 0
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(tmp_path / "applications" / "ann-designer.desktop")
    section = entry["Desktop Entry"]
    assert section["Exec"].startswith(sys.executable) and section["Exec"].endswith("%f")
    assert section["Icon"] == "ann-designer" and desktop.MIME_TYPE in section["MimeType"]
    for size in desktop.ICON_SIZES:
        png = tmp_path / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "ann-designer.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mime = (tmp_path / "mime" / "packages" / "ann-designer.xml").read_text()
    assert '<glob pattern="*.annproj"/>' in mime and desktop.MIME_TYPE in mime
    assert "installed 10 files" in capsys.readouterr().out
    assert app.main(["--uninstall-desktop"]) == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_window_icon_has_every_size(qapp):
    application = app.application()
    sizes = {(s.width(), s.height()) for s in application.windowIcon().availableSizes()}
    assert sizes == {(n, n) for n in desktop.ICON_SIZES}
    assert (application.organizationName(), application.applicationName()) == (
        "ann-designer", "ann-designer")


def test_old_settings_are_copied_once_into_the_new_store(qapp, tmp_path):
    ini = QSettings.Format.IniFormat
    old = QSettings(str(tmp_path / "old.ini"), ini)
    old.setValue("window/theme", "dark")
    old.setValue("files/recent", ["a.annproj", "b.annproj"])
    old.sync()
    new = QSettings(str(tmp_path / "new.ini"), ini)
    assert app.migrate_settings(new, old)
    assert new.value("window/theme") == "dark"
    assert new.value("files/recent") == ["a.annproj", "b.annproj"]
    old.setValue("window/theme", "light")
    assert not app.migrate_settings(new, old)  # the new store is in use: leave it
    assert new.value("window/theme") == "dark"


# ---------------------------------------------------------------- uncaught errors
def _exc_info() -> tuple:
    try:
        raise ValueError("the bad value")
    except ValueError:
        return sys.exc_info()


def test_error_box_shows_the_message_the_log_file_and_copies_details(qapp, tmp_path):
    box = error_dialog.error_box(_exc_info(), tmp_path / "ann-designer.log")
    assert "ValueError: the bad value" in box.text()
    assert str(tmp_path / "ann-designer.log") in box.informativeText()
    assert "Traceback" in box.detailedText()
    copy = next(b for b in box.buttons() if b.text() == "Copy details")
    copy.click()
    assert "raise ValueError" in QApplication.clipboard().text()
    box.deleteLater()


def test_uncaught_errors_are_logged_and_shown_once(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("ANN_DESIGNER_LOG_DIR", str(tmp_path))
    log_file = setup_logging()
    shown = []

    def fake_exec(box: QMessageBox) -> int:
        shown.append(box.text())
        handler(*_exc_info())  # an error while the dialog is open: logged only
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(error_dialog.threading, "excepthook", error_dialog.threading.excepthook)
    handler = error_dialog.install_exception_handler(log_file)
    try:
        sys.excepthook(*_exc_info())
    finally:
        stop_logging()
    assert shown == ["Something went wrong: ValueError: the bad value"]
    text = log_file.read_text()
    assert text.count("uncaught exception") == 2 and "the bad value" in text
