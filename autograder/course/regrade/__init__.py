"""Regrading a class: ``fetch`` each repository, then grade every student resumably, N at a time."""
