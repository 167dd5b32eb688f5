"""``python -m parley_conformance``: the ``conformance`` command (docs/conformance.md)."""

import sys

from .cli import main

sys.exit(main())
