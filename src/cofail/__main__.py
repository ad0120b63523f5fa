"""``python -m cofail``: the same as the ``cofail`` command."""

import sys

from cofail.cli import main

sys.exit(main())
