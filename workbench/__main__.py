"""`python -m workbench` runs the command line (and the app)."""

import sys

from workbench.cli import main

sys.exit(main())
