"""Position manager (spec 11): PM frame, threshold gates, sizing, overlap blocking, metrics and search."""
