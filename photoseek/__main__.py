"""Allow ``python -m photoseek``."""

from photoseek.cli import main

raise SystemExit(main())
