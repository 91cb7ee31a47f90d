"""Native errors: Cartwheel's own shape, ``{"success": false, "message", "errors"}``, which
the store data API shares (:mod:`cartwheel.kit.errors`)."""

from __future__ import annotations

from cartwheel.kit.errors import render_native as render_error

__all__ = ["render_error"]
