"""``python -m innatura`` runs the ``innatura`` command line."""

import sys

from innatura.cli import main

sys.exit(main())
