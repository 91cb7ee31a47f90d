"""The range of integer ids (a storage convention, not a domain rule)."""

from __future__ import annotations

#: The largest integer primary key (32-bit INTEGER on PostgreSQL). A larger id in a request
#: names nothing; comparing it with an id column would be an error on PostgreSQL.
MAX_ID = 2**31 - 1
