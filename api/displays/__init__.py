"""Customer-facing displays: what the POS puts on a terminal's screen, streamed to it."""
