"""``python -m bagnet_repro <stage>``: the same commands as the ``bagnet-repro`` script (see ``cli``)."""

import sys

from .cli import main

sys.exit(main())
