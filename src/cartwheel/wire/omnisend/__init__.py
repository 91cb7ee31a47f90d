"""Omnisend Events API (``POST /v5/events``), with ``paid for order`` as an order event."""
