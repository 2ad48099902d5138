"""A provider that exists only in the test suite: a two-step job, declared and registered, and nothing in onboarding/."""
