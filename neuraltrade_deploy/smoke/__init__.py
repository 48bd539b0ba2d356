"""The HTTP smoke checks run against the canary and production URLs."""
