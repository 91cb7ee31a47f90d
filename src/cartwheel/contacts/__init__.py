"""Contacts: the people of a store, as the event APIs resolve them and the store data API
shows them (one record, two views)."""
