"""Stores (tenants), their secret keys and client credentials."""
