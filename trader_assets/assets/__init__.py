"""Asset modules, one per group."""
