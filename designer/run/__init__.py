"""The training run without Qt: the messages (``protocol``), the process, the loop, the
snapshot buffer and the data preparation. Nothing here imports PySide6 or pyqtgraph,
so the training process starts without them (a test and the import contracts say so).
"""
