"""``python -m parley``: the ``parley`` command (docs/tool.md)."""

import sys

from .cli import main

sys.exit(main())
