"""The canonical ingest pipeline every wire format feeds: identity, dedup, typing, durable
group-committed writes. Nothing here knows a vendor's name."""
