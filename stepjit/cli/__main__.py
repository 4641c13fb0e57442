"""`python -m stepjit.cli`: the `stepjit` command."""
import sys

from . import main

sys.exit(main())
