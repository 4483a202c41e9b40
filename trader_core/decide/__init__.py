"""Decisions from a model line's champion (``trader decide``, docs/decide.md): per-strategy deciders behind one
call, and the decision log."""

from trader_core.decide.api import DECIDERS, Decisions, champion_of, decide, decider_of
from trader_core.decide.base import (DEFAULT_MAX_AGE, Champion, Decider, DecisionRefused, DecisionRequest,
                                     parse_request)

__all__ = ["DECIDERS", "DEFAULT_MAX_AGE", "Champion", "Decider", "DecisionRefused", "DecisionRequest", "Decisions",
           "champion_of", "decide", "decider_of", "parse_request"]
