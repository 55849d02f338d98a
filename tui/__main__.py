"""`python -m tui` runs the same entry point as the `sqlreach` script."""

from tui.cli import main

raise SystemExit(main())
