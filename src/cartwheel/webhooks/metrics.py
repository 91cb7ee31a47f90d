"""Prometheus metrics of webhook delivery (served at ``/metrics`` by a process that runs the
worker in-process; no per-store labels, to keep cardinality flat)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(
    "cartwheel_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (succeeded, failed)",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "cartwheel_webhook_attempt_seconds",
    "Time from sending a webhook to its answer (or failure)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DISABLED = Counter(
    "cartwheel_webhook_subscriptions_disabled_total",
    "Webhooks disabled after a delivery exhausted its retries or got 410 Gone",
)
