"""Subscriber lists: the store's email marketing lists and the contacts on them."""
