"""Labels: path statistics, price plan, direction/entry/continue/exit/risk labels."""
