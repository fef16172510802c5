"""The designer's window, its panels, and the ``ann-designer`` launcher (designer.app).

The console script imports this package first, a second before ``main()`` runs (NumPy,
the command line); a Ctrl-C in that second should end the program quietly, not with a
KeyboardInterrupt traceback, so the handler is installed here, before anything else is
imported, and only when the program is the ``ann-designer`` script. ``main()`` puts the
default handler back. It comes from the built-in ``_signal``: ``signal`` builds its enums
first, milliseconds in which a Ctrl-C still printed a traceback.
"""

import _signal
import os as _os
import sys as _sys


def leave_quietly(signum: int, frame: object) -> None:
    """Ctrl-C while the launcher starts: exit as interrupted (130), without a traceback.

    Nothing is open or unsaved yet, so the process ends at once: an exception raised here
    could land in a weakref callback of the import machinery, where Python prints it
    ("Exception ignored in ...") instead of exiting.
    """
    for stream in (_sys.stdout, _sys.stderr):
        if stream is not None:
            stream.flush()
    _os._exit(130)


if _sys.argv and _sys.argv[0].rsplit("/", 1)[-1].startswith("ann-designer"):
    _signal.signal(_signal.SIGINT, leave_quietly)
