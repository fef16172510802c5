"""Ctrl-C as real signals to ``ann-designer`` in a subprocess: nothing trained is lost."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.cli import CtrlC, main
from core.project import load_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
LAUNCHER = Path(sys.executable).with_name("ann-designer")


def launcher() -> str:
    if not LAUNCHER.exists():
        pytest.skip("the ann-designer console script is not installed")
    return str(LAUNCHER)


def wait_for_training(proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Until the progress line shows batches being trained."""
    end = time.monotonic() + timeout
    while "batch/s" not in log.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < end, log.read_text()
        time.sleep(0.05)


@pytest.mark.parametrize("gap", [0.002, 0.0005, 0.01])
def test_two_quick_ctrl_c_still_save_the_last_complete_batch(tmp_path, capsys, gap):
    project = tmp_path / "p.annproj"
    assert main(["new", "--example", "xor", "-o", str(project)]) == 0
    capsys.readouterr()
    log = tmp_path / "err.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([launcher(), "train", str(project), "--epochs", "100000"],
                                stdout=subprocess.PIPE, stderr=err, text=True)
        wait_for_training(proc, log)
        proc.send_signal(signal.SIGINT)
        time.sleep(gap)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    said = log.read_text()
    # -SIGINT: the second press came after the save, as the interpreter was exiting
    assert proc.returncode in (130, -signal.SIGINT), said[-500:]
    assert "Traceback" not in said and "error:" not in said
    assert proc.returncode != 130 or "saved weights" in out
    saved = load_project(project)
    assert saved.weights is not None and len(saved.history["batch_loss"]) > 0


def wait_for_numpy_loading(proc: subprocess.Popen) -> None:
    """Until the process maps NumPy's core library: the launcher's imports are under
    way (its handler is installed before them)."""
    maps = Path(f"/proc/{proc.pid}/maps")
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if "_multiarray_umath" in maps.read_text():
                return
        except OSError:
            return
        time.sleep(0.002)


def test_ctrl_c_while_the_launcher_starts_prints_no_traceback(tmp_path):
    """From the launcher's first import on (the interpreter's own start-up, before any
    line of the script runs, is Python's: a Ctrl-C there is its KeyboardInterrupt)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for delay in (0.0, 0.1):
        proc = subprocess.Popen([launcher(), "summary", str(tmp_path / "none.annproj")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        wait_for_numpy_loading(proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert proc.returncode in (130, 1), err  # 1: it had already said the file is missing


class _Trainer:
    """Counts stop requests; a signal handler must not make any (they take a lock)."""

    def __init__(self) -> None:
        self.stops = 0

    def request_stop(self) -> None:
        self.stops += 1


class _Event:
    kind = "batch"


def test_the_handler_takes_no_lock_and_the_next_event_passes_the_stop_on():
    said: list[str] = []
    ctrl_c = CtrlC(type("Progress", (), {"write": staticmethod(said.append)})())
    trainer = _Trainer()
    ctrl_c.hook(trainer)
    on_event = ctrl_c.watch(lambda event: None)
    ctrl_c(signal.SIGINT, None)
    assert trainer.stops == 0 and said == [
        "stopping after this batch (Ctrl-C again to stop at once)"]
    on_event(_Event())
    assert trainer.stops == 1
    with pytest.raises(KeyboardInterrupt):  # the second press stops at once
        ctrl_c(signal.SIGINT, None)


def test_a_second_press_inside_the_first_handler_stops_at_once():
    """Two presses 0.5 ms apart: the second handler runs inside the first one."""
    def write(text: str) -> None:
        ctrl_c(signal.SIGINT, None)

    ctrl_c = CtrlC(type("Progress", (), {"write": staticmethod(write)})())
    ctrl_c.hook(_Trainer())
    with pytest.raises(KeyboardInterrupt):
        ctrl_c(signal.SIGINT, None)
