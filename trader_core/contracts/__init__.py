"""Contracts declared once: versions and split ids, raw/replay table contracts, features, labels, models.

Import from the submodules (``trader_core.contracts.features``, ``.labels``, ``.models``, ...).
"""
