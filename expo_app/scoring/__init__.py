"""The scoring maths: rubric totals, judge-effect model, ranking and uncertainty.

Pure package: standard library and numpy only; nothing here imports Flask or the ORM.
"""
from .ranking import RankingResult, TeamRanking, analyse, rank_teams
from .rubric import CriterionSpec, validate_values, weighted_total

__all__ = ["CriterionSpec", "RankingResult", "TeamRanking", "analyse", "rank_teams", "validate_values",
           "weighted_total"]
