"""Experiments and diagnostics (docs/experiments.md): diagnostic only, never part of the formal chain."""
