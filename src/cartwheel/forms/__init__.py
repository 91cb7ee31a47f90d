"""Form submissions: what the store's site forms send, and the contacts they create."""
