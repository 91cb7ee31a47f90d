"""Voucherify's client-side custom event (``POST /client/v1/events``), an ingest-pipeline
adapter (:mod:`cartwheel.wire.pipeline`)."""
