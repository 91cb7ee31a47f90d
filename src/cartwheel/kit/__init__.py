"""Shared code with no domain knowledge."""
