"""Allow ``python -m photoseek``."""

from photoseek.entry import main

raise SystemExit(main())
