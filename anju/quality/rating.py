"""The star rule: from an assessment's item results to level scores, a star level (0–5★) and
the gap report of what blocks the next star. Pure functions, documented in docs/quality.md.

- Each result earns a share of its standard's weight: met 100 %, partly met 50 %, not met (or
  not assessed) 0 %; "not applicable" items leave the level's total.
- A level's score is the points earned over the points possible, in per cent (a level with no
  applicable standard counts 100).
- A community earns the highest star whose thresholds it meets for every level, counting up
  from 1★ and stopping at the first star it misses (so 4★ always implies the 3★ thresholds).
- Veto (一票否决): a basic safety standard not met caps the result at ``veto_cap`` stars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from anju.quality.choices import LEVEL_ORDER, RESULT_SHARE, ItemResult, StandardCategory


@dataclass
class Scored:
    """What the rule needs of one item."""

    level: str
    category: str
    weight: int
    result: str
    code: str = ""
    title: str = ""
    item_id: int | None = None
    standard_id: int | None = None

    @property
    def earned(self) -> float:
        return self.weight * RESULT_SHARE.get(self.result, 0.0)

    @property
    def missing(self) -> float:
        return self.weight - self.earned


@dataclass
class Outcome:
    stars: int
    level_scores: dict[str, float]
    vetoed: bool
    veto_items: list[Scored] = field(default_factory=list)


def level_scores(items: list[Scored]) -> dict[str, float]:
    scores = {}
    for level in LEVEL_ORDER:
        counted = [i for i in items if i.level == level and i.result != ItemResult.NOT_APPLICABLE]
        possible = sum(i.weight for i in counted)
        earned = sum(i.earned for i in counted)
        scores[str(level)] = round(100 * earned / possible, 1) if possible else 100.0
    return scores


def _meets(scores: dict[str, float], row: dict) -> bool:
    return all(scores[str(level)] >= row.get(str(level), 0) for level in LEVEL_ORDER)


def stars_for(items: list[Scored], rule: dict) -> Outcome:
    scores = level_scores(items)
    stars = 0
    for row in sorted(rule["stars"], key=lambda r: r["stars"]):
        if not _meets(scores, row):
            break
        stars = row["stars"]
    veto_items = [
        i
        for i in items
        if i.level == "basic" and i.category == StandardCategory.SAFETY and i.result == "fail"
    ]
    vetoed = bool(veto_items) and stars > rule.get("veto_cap", 2)
    if vetoed:
        stars = rule.get("veto_cap", 2)
    return Outcome(stars=stars, level_scores=scores, vetoed=vetoed, veto_items=veto_items)


def gap_report(items: list[Scored], rule: dict) -> dict:
    """What blocks the next star: per level below its threshold, the points missing and the
    standards that would earn them (most points first); and any veto item."""
    outcome = stars_for(items, rule)
    rows = {r["stars"]: r for r in rule["stars"]}
    target = outcome.stars + 1
    report = {
        "stars": outcome.stars,
        "next": target if target in rows else None,
        "level_scores": outcome.level_scores,
        "vetoed": outcome.vetoed,
        "veto_items": outcome.veto_items,
        "veto_blocks": bool(outcome.veto_items) and target > rule.get("veto_cap", 2),
        "levels": [],
    }
    if target not in rows:
        return report
    row = rows[target]
    for level in LEVEL_ORDER:
        need = row.get(str(level), 0)
        score = outcome.level_scores[str(level)]
        if score >= need:
            continue
        counted = [i for i in items if i.level == level and i.result != ItemResult.NOT_APPLICABLE]
        possible = sum(i.weight for i in counted)
        short = math.ceil((need - score) / 100 * possible * 10) / 10 if possible else 0
        candidates = sorted(
            (i for i in counted if i.missing > 0), key=lambda i: (-i.missing, i.code)
        )
        report["levels"].append(
            {
                "level": str(level),
                "score": score,
                "needed": need,
                "points_short": short,
                "items": candidates,
            }
        )
    return report
