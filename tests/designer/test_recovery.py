"""Crash recovery: autosave, the list of crashed sessions, and when their files go."""

from __future__ import annotations

from pathlib import Path

from bare_window import (  # noqa: F401 - fixtures, used by name
    action,
    boxes,
    make_window,
    no_leaked_windows,
    settings,
    small_project,
    use_project,
)
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core.project import load_project
from designer.dialogs import RecoveryDialog
from designer.main_window import MainWindow
from designer.recovery import RecoveryStore


def crash(window: MainWindow) -> None:
    """The process "dies": its recovery files stay, its lock is gone, nothing is asked."""
    window.recovery.abandon()
    window.recovery = None
    window.editor.undo_stack.setClean()
    window.close()


def crashed_with(make_window, folder: Path, units: int, source: Path | None = None):
    """A window that edited h1's units, autosaved, and crashed."""
    window = make_window(recovery=RecoveryStore(folder),
                         **({"path": str(source)} if source else {}))
    if source is None:
        use_project(window)
    window.editor.set_param(["h1"], "units", units)
    assert window.autosave()
    crash(window)


def test_recovery_after_a_simulated_crash(make_window, tmp_path):
    crashed_with(make_window, tmp_path / "recovery", 13)
    shown = answer_recovery((0, "recover"))
    later = make_window(recovery=RecoveryStore(tmp_path / "recovery"), offer_recovery=True)
    assert len(shown) == 1 and "an unsaved project" in shown[0][0]
    assert later.document.node("h1")["units"] == 13
    assert later.session.is_modified and later.isWindowModified()
    assert RecoveryStore(tmp_path / "recovery").orphans() == []  # safe in later's own copy
    assert load_project(later.recovery.project_path).spec == later.document.spec


def test_recovered_work_survives_a_second_crash_at_once(make_window, tmp_path):
    """Recovering must not delete the only copy: the new session writes its own first."""
    folder = tmp_path / "recovery"
    crashed_with(make_window, folder, 13)
    answer_recovery((0, "recover"))
    second = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    crash(second)  # a second crash long before the next autosave
    answer_recovery((0, "recover"))
    third = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert third.document.node("h1")["units"] == 13


def test_recovery_files_stay_until_the_recovered_work_is_safe(make_window, tmp_path,
                                                              monkeypatch):
    folder = tmp_path / "recovery"
    crashed_with(make_window, folder, 13)
    orphan = RecoveryStore(folder).orphans()[0]
    monkeypatch.setattr(RecoveryStore, "write", lambda *a: (_ for _ in ()).throw(
        OSError("disk full")))
    answer_recovery((0, "recover"))
    later = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert later.document.node("h1")["units"] == 13
    assert orphan.project_path.is_file()  # the autosave failed: the original stays
    monkeypatch.undo()
    later.files._save_to(str(tmp_path / "saved.annproj"))
    assert not orphan.project_path.exists()  # saved by the user: now it may go


def test_every_crashed_session_is_offered_and_later_keeps_them(make_window, tmp_path, boxes):
    folder = tmp_path / "recovery"
    source = tmp_path / "lesson.annproj"
    from core.project import save_project
    save_project(small_project(), source)
    crashed_with(make_window, folder, 13)
    crashed_with(make_window, folder, 21, source)
    shown = answer_recovery((0, "later"))
    first = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert len(shown[0]) == 2 and any("lesson.annproj" in line for line in shown[0])
    assert len(RecoveryStore(folder).orphans()) == 2  # Later deletes nothing
    first.close()
    shown = answer_recovery((1, "recover"))
    second = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    recovered = second.document.node("h1")["units"]
    assert recovered in (13, 21)
    assert len(RecoveryStore(folder).orphans()) == 1  # the other crash's work stays
    assert second.recovery.project_path.is_file()  # the recovered one is in second's copy
    second.files._save_to(str(tmp_path / "first.annproj"))
    shown = answer_recovery((0, "recover"))
    assert action(second, "recover") in second.menus["file"].actions()
    action(second, "recover").trigger()  # File > Recover unsaved work: the other one
    assert {recovered, second.document.node("h1")["units"]} == {13, 21}
    assert len(shown[0]) == 1


def test_discard_deletes_only_the_chosen_work(make_window, tmp_path):
    folder = tmp_path / "recovery"
    crashed_with(make_window, folder, 13)
    crashed_with(make_window, folder, 21)
    shown = answer_recovery((0, "discard"), (0, "later"))
    make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert [len(lines) for lines in shown] == [2, 1]
    assert len(RecoveryStore(folder).orphans()) == 1


def test_no_recovery_prompt_after_a_clean_exit(make_window, tmp_path, boxes):
    store = RecoveryStore(tmp_path / "recovery")
    first = make_window(recovery=store)
    use_project(first)
    first.editor.set_param(["h1"], "units", 13)
    first.autosave()
    first.editor.undo_stack.setClean()
    first.close()
    assert list((tmp_path / "recovery").iterdir()) == []
    make_window(recovery=RecoveryStore(tmp_path / "recovery"), offer_recovery=True)
    assert boxes.shown == []


def test_autosave_timer_runs_every_minute(make_window, tmp_path):
    window = make_window(recovery=RecoveryStore(tmp_path / "recovery"))
    assert window.autosave_timer.isActive()
    assert window.autosave_timer.interval() == 60_000


def test_recovered_project_keeps_its_file_name(make_window, tmp_path):
    from core.project import save_project
    source = tmp_path / "lesson.annproj"
    save_project(small_project(), source)
    crashed_with(make_window, tmp_path / "recovery", 13, source)
    answer_recovery((0, "recover"))
    later = make_window(recovery=RecoveryStore(tmp_path / "recovery"), offer_recovery=True)
    assert later.session.file_path == source and later.session.is_modified
    assert "lesson.annproj" in later.windowTitle()


def answer_recovery(*choices: tuple[int, str]) -> list[list[str]]:
    """Press a button of each recovery list that opens, in turn: (row, "recover" |
    "discard" | "later"); returns the lines each list showed."""
    pending, shown = list(choices), []

    def press() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, RecoveryDialog) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(5, press)
            return
        shown.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        row, button = pending.pop(0)
        dialog.list.setCurrentRow(row)
        dialog.buttons[button].click()
        if pending:
            QTimer.singleShot(5, press)

    QTimer.singleShot(0, press)
    return shown
