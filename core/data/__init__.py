"""Data for ANN Designer: built-in data sets, CSV/NPY import, scaling and splits.

Everything here returns a :class:`Dataset` (float32 features, class indices or a float32
regression matrix) and raises :class:`DataError` with a message that says where the data
is wrong and how to fix it.
"""

from core.data.builtin import BUILTIN_DATASETS, DatasetInfo, load_builtin
from core.data.csv_import import CsvLayout, read_csv, read_features, sniff_csv
from core.data.dataset import DataError, Dataset
from core.data.npy_import import read_npy
from core.data.preprocessing import FEATURE_TRANSFORMS, Scaler, feature_transforms
from core.data.read_progress import Progress, ReadCancelled
from core.data.split import split

__all__ = ["BUILTIN_DATASETS", "CsvLayout", "DataError", "Dataset", "DatasetInfo",
           "FEATURE_TRANSFORMS", "Progress", "ReadCancelled", "Scaler", "feature_transforms",
           "load_builtin", "read_csv", "read_features", "read_npy", "sniff_csv", "split"]
