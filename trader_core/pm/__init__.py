"""Position manager (docs/trading.md): PM frame, threshold gates, sizing, overlap blocking, metrics and search."""
