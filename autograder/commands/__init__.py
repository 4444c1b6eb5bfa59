"""The command layer's runs that join several layers: each command's ``run(args)`` here, its
arguments in :mod:`autograder.arguments`, dispatched by :mod:`autograder.cli`. The other
commands' runs live in the one subpackage they use (docs/architecture.md, "Layers")."""
