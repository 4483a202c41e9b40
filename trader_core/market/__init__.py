"""Market data sources that produce the raw market contract."""
