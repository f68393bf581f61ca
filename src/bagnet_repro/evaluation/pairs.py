"""Paired tests of two classifiers on the same images: the exact McNemar test and Holm's correction when a
table holds several, both statsmodels' (the field's reference implementation)."""

from __future__ import annotations

from collections.abc import Sequence


def mcnemar_exact(first_only: int, second_only: int) -> float:
    """Exact McNemar p-value from the discordant counts: images only the first got right, only the second.
    The concordant counts do not enter the exact test; 1.0 when there is no discordant pair."""
    from statsmodels.stats.contingency_tables import mcnemar

    if first_only + second_only == 0:
        return 1.0
    return float(mcnemar([[0, first_only], [second_only, 0]], exact=True).pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (controls the family-wise error rate)."""
    from statsmodels.stats.multitest import multipletests

    if not p_values:
        return []
    return [float(p) for p in multipletests(list(p_values), method="holm")[1]]
