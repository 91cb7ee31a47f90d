"""Redo custom events (single and bulk), answered with RFC 7807 problem details."""
