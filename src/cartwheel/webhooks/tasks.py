"""The webhook entries of the worker registry (worker/registry.py)."""

from __future__ import annotations

from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.webhooks.fanout import fan_out_event, fan_out_message, wants_event, wants_message

__all__ = ["DeliveryTask", "fan_out_event", "fan_out_message", "wants_event", "wants_message"]
