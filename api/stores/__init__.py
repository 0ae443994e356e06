"""Stores: the chain's own store codes."""
