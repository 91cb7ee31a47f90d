"""Flows: durable automations started by events, records, segments and dates (see
docs/flows.md)."""
