"""Cartwheel's own event API (``/v1/events``): a clean camelCase schema, secret key."""
