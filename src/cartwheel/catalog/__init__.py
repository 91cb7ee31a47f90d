"""The store's catalog: products and their category tree (store data API, secret key)."""
