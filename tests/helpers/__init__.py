"""Shared test helpers (loopback servers and the like)."""
