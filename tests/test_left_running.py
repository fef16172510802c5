"""The shared fixture in conftest.py fails a test that leaves work running behind it."""

import shutil
from pathlib import Path

pytest_plugins = ["pytester"]

LEAKY = '''
import threading, multiprocessing, time

def test_leaves_a_thread():
    threading.Thread(target=time.sleep, args=(5,), name="forgotten", daemon=True).start()

def test_leaves_a_process():
    p = multiprocessing.get_context("fork").Process(target=time.sleep, args=(5,),
                                                    name="ann-training", daemon=True)
    p.start()

def test_tidy():
    t = threading.Thread(target=time.sleep, args=(0.1,))
    t.start()
'''


def test_a_thread_or_process_left_running_fails_the_test(pytester):
    shutil.copy(Path(__file__).with_name("conftest.py"), pytester.path / "conftest.py")
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*left running: thread 'forgotten'*",
                                 "*left running: process 'ann-training'*"])
