"""Test set-up shared by every test: Qt runs offscreen, no display needed."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
