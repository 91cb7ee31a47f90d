"""Outbound webhooks: subscriptions, fan-out from the outbox and the event log into a durable
delivery queue, Standard Webhooks signing, and a guarded HTTP client."""
