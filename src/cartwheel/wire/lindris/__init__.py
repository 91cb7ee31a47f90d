"""The Lindris Events API wire format: generic and lifecycle events (cart, product, order,
customer, user, subscription) with Laravel-style validation errors."""
