"""Walk-forward: the monthly retraining loop backtested month by month through the graph (docs/retraining.md)."""
