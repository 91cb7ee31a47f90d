"""Email and SMS from Liquid templates: consent, suppression, the send queue, campaigns,
opens and clicks (see docs/messaging.md)."""
