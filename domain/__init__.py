"""Pure loyalty rules and values: standard library only, no I/O."""
