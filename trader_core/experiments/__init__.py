"""Experiments and diagnostics (spec 12-13): diagnostic only, never part of the formal chain."""
