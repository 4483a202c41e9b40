"""ButterQuant (docs/butterfly.md): a 4-class ROI model for long call butterflies on daily bars, as a pure library.

Modules: ``contracts`` (feature order, classes, versions), ``config`` (ButterflyConfig), ``market`` (synthetic
source + CSV adapter), ``daily`` (as-of trailing statistics), ``pricing`` (Black-Scholes, IV proxy, butterfly),
``sampling``, ``positions``, ``labels``, ``features``, ``model``, ``backtest``, ``monitoring``, ``report``
(plots and tables) and ``pipeline`` (the stage functions). See docs/butterfly.md.
"""
