"""``python -m abm`` runs the ``innatura`` command line."""

import sys

from abm.cli import main

sys.exit(main())
