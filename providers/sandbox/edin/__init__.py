"""Simulated EDIN login and session."""
