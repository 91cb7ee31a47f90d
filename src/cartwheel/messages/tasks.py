"""The messaging entries of the worker registry (worker/registry.py)."""

from __future__ import annotations

from cartwheel.messages.sending import SendTask

__all__ = ["SendTask"]
