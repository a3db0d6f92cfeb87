"""The bundle's entry script: what the ``photoseek`` console script runs in a pip install."""

from __future__ import annotations

import multiprocessing
import sys

from photoseek.entry import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not run the app again
    sys.exit(main())
