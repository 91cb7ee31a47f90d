"""The messaging entries of the worker registry (worker/registry.py)."""

from __future__ import annotations

from cartwheel.messages.campaigns import CampaignTask
from cartwheel.messages.sending import SendTask
from cartwheel.messages.transactional import consume as consume_message
from cartwheel.messages.transactional import wants as wants_message

__all__ = ["CampaignTask", "SendTask", "consume_message", "wants_message"]
