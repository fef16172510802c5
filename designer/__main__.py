"""`python -m designer [FILE.annproj]`: open the designer (the same as `ann-designer`)."""

import sys

from designer.app import main

USAGE = "usage: python -m designer [FILE.annproj]\nOpens the designer, with FILE if given."

if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        sys.exit(0)
    if len(args) > 1 or (args and args[0].startswith("-")):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(args[0] if args else None))
