"""ANN Designer's engine: network spec, layers, training, data and file formats.

Pure NumPy: this package never imports Qt, pyqtgraph or the designer.
"""

from core.network import Network
from core.spec import Problem, SpecError, validate
from core.training import Trainer, TrainEvent, TrainingDiverged

__all__ = ["Network", "Problem", "SpecError", "TrainEvent", "Trainer", "TrainingDiverged",
           "validate"]
