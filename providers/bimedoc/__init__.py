"""Bimedoc: the partner API client, onboarding services and their tasks."""
