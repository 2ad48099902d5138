"""A simulator of the outside systems (Bimedoc, EDIN, the delivery gateway) for development and tests."""
