"""``python -m etamil_server``: the ``etamil`` command."""

import sys

from .cli import main

sys.exit(main())
