"""`python -m imtui` runs the same entry point as the `imtui` command."""

from imtui.cli import main

raise SystemExit(main())
