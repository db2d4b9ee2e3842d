"""Scoring: indicator actuals from the warehouse (metrics) and the scorecard (engine)."""

from jixiao.scoring.engine import (
    IndicatorScore,
    Level1Score,
    Scorecard,
    ScoringError,
    claimed_scores,
    grade,
    score,
    score_findings,
    scorecard_rows,
)
from jixiao.scoring.metrics import Metric, MetricError, compute_metrics, store_metrics

__all__ = [
    "IndicatorScore",
    "Level1Score",
    "Metric",
    "MetricError",
    "Scorecard",
    "ScoringError",
    "claimed_scores",
    "compute_metrics",
    "grade",
    "score",
    "score_findings",
    "scorecard_rows",
    "store_metrics",
]
