"""Mobile Saúde: the authorization and identification endpoints its app platform calls."""
