"""Names, version and size limits of the project file (``.annproj``).

Reading, writing, migrating and checking a project file all need them, so they live below
those modules; ``core.project`` re-exports every one of them.
"""

from __future__ import annotations

FORMAT = "ann-designer-project"
VERSION = 1
SUFFIX = ".annproj"

PROJECT_JSON = "project.json"
WEIGHTS_NPZ = "weights.npz"
DATA_DIR = "data/"
OPTIMIZER_PREFIX = "@optimizer/"

# Limits for untrusted files. Generous for anything a desktop app trains, small enough
# that a hostile file cannot exhaust memory.
MAX_TOTAL_BYTES = 2 * 1024**3          # all members together, uncompressed
MAX_JSON_BYTES = 256 * 1024**2         # project.json (history can be long)
MAX_MEMBERS = 64                       # members of the project zip
MAX_ARRAYS = 100_000                   # arrays inside weights.npz
MAX_PARAMETERS = 2**28                 # bound on any whole number in a node's settings
MAX_NODES = 10_000
MAX_EDGES = 100_000
