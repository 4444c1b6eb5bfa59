"""The student repository: ``release``, ``stubs``, the manifest and ``grade --repo``'s check."""
