"""The Segment tracking spec (also spoken by RudderStack): ``/v1/batch`` and the single calls
``/v1/track``, ``/v1/identify``, ``/v1/page``, ``/v1/screen``, ``/v1/group``, ``/v1/alias``
and the browser library's short forms, authenticated by a per-store write key. Anonymous
visitors get a profile of their own that joins the customer's when they identify."""
