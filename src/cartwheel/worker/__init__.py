"""Durable background work: tables claimed in transactions, a loop that runs them."""
