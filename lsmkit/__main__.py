"""``python -m lsmkit ...`` (and ``torchrun -m lsmkit pretrain ...``) run the command line."""

import sys

from .cli import main

sys.exit(main())
