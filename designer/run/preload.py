"""What the training processes' fork server loads once, before it forks any run.

The training process' own module, and the compiled training path of small networks
(:func:`core.training.fast_dense.compile_ahead`): numba compiles it in the fork server,
in the background while the window opens, so that no run waits for it. And one BLAS
thread for good: every run trains with one, and a run forked with the limit already set
starts no BLAS helper thread (:func:`designer.run.loop.single_threaded_blas`).
"""

from core.training.fast_dense import compile_ahead
from designer.run import process  # noqa: F401 - loaded for the runs it forks
from designer.run.loop import limit_blas_for_good

compile_ahead()
limit_blas_for_good()
