"""`python -m stepjit ...` is the `stepjit` command."""
import sys

from .cli import main

sys.exit(main())
