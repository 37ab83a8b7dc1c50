"""The scoring maths: rubric totals, judge-effect model, ranking and uncertainty.

Pure package: standard library and numpy only; nothing here imports Flask or the ORM.
"""
from .rubric import CriterionSpec, validate_values, weighted_total

__all__ = ["CriterionSpec", "validate_values", "weighted_total"]
