"""``python -m sff.serve``: the same as ``sff serve``."""

import sys

from sff.serve.command import main

sys.exit(main())
