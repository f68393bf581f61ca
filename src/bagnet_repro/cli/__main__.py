"""``python -m bagnet_repro.cli``, as ``python -m bagnet_repro`` and the ``bagnet-repro`` script."""

import sys

from . import main

sys.exit(main())
