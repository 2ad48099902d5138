"""Simulated SMS/push delivery gateway."""
