"""Simulated Bimedoc partner API and app SSO landing page."""
