"""`python -m designer [FILE.annproj]`: open the designer (the same as `ann-designer`)."""

import sys

from designer.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
