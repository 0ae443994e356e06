"""Use cases, one module per feature: load, call pure domain code, record, commit once."""
