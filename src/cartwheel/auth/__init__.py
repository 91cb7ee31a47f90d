"""Secret API keys and public client credentials."""
