"""Members of the store's site (member area logins), member groups and single sign-on."""
