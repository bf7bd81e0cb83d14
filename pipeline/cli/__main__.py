"""`python -m pipeline.cli`: the `docket` command."""

import sys

from pipeline.cli import app

sys.exit(app())
