"""Bookings: booked sessions of the store's scheduled events."""
