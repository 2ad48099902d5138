"""EDIN: the document exchange login client and the pharmacy connection."""
