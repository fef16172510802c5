"""`python -m designer [FILE.annproj | COMMAND ...]`: the same as `ann-designer`."""

import sys

from designer.app import main

if __name__ == "__main__":
    sys.exit(main())
