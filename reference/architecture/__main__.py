"""``python -m reference.architecture``: the architecture-picker skill's command line."""

from reference.architecture.cli import main

raise SystemExit(main())
