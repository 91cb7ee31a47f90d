"""The back office: server-rendered pages at ``/admin`` for the people who run a store's
marketing, calling the same services as the API. See docs/admin.md."""
