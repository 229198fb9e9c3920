"""`python -m luacross` runs the CLI."""

import sys

from luacross.cli import main

sys.exit(main())
