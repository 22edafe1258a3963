"""Survey results, written once and used by the results page, the Excel export, the KPI
dashboard, the monthly report and the star-rating checks:

- **satisfaction** of a set of 1–5 scale answers = the share of 4 and 5 answers, in per cent;
  **mean** = their average;
- **NPS** of 0–10 recommendation answers = % promoters (9–10) − % detractors (0–6);
- a **low score** is a scale answer of 3 or less, or a recommendation of 6 or less.

Building figures of an anonymous survey are shown only for groups of ``MIN_GROUP`` responses or
more, so that nobody's answers can be read off a small building."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict

from django.core.cache import cache
from django.db.models import Avg, Count, Q, QuerySet

from anju.quality.choices import CampaignState, Dimension, QuestionKind
from anju.quality.models import SurveyAnswer, SurveyCampaign

MIN_GROUP = 5
GOOD = 4  # scale answers ≥ GOOD count as satisfied
LOW_SCALE = 3
LOW_NPS = 6
COUNTED = (QuestionKind.SCALE, QuestionKind.NPS)


def pct(part: int | float, whole: int | float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def grouped_counts(answers: QuerySet[SurveyAnswer], kind: str | None = None):
    """``(dimension, kind, score, n)`` of the scored answers of ``answers``: what
    ``stats_from_counts`` reads, whether from the answers or from the month counts."""
    scored = answers.filter(score__isnull=False)
    scored = scored.filter(kind=kind) if kind else scored.filter(kind__in=COUNTED)
    return scored.values_list("dimension", "kind", "score").annotate(n=Count("id")).order_by()


def scale_stats(answers: QuerySet[SurveyAnswer]) -> dict:
    """Count, mean and satisfaction of the scale answers of ``answers``."""
    return stats_from_counts(grouped_counts(answers, QuestionKind.SCALE))["scale"]


def nps_stats(answers: QuerySet[SurveyAnswer]) -> dict:
    return stats_from_counts(grouped_counts(answers, QuestionKind.NPS))["nps"]


def by_dimension(answers: QuerySet[SurveyAnswer]) -> list[dict]:
    return stats_from_counts(grouped_counts(answers, QuestionKind.SCALE))["dimensions"]


def stats_from_counts(counts) -> dict:
    """Scale, NPS and per-dimension figures — the one place these definitions are computed —
    from grouped counts: an iterable of ``(dimension, kind, score, n)`` (``grouped_counts`` of
    answers, or the month counts the dashboard reads)."""
    scale_n = scale_good = scale_sum = 0
    nps_n = promoters = detractors = 0
    dims: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # n, good, sum
    for dimension, kind, score, n in counts:
        if score is None:
            continue
        if kind == QuestionKind.SCALE:
            scale_n += n
            scale_sum += score * n
            d = dims[dimension]
            d[0] += n
            d[2] += score * n
            if score >= GOOD:
                scale_good += n
                d[1] += n
        elif kind == QuestionKind.NPS:
            nps_n += n
            if score >= 9:
                promoters += n
            elif score <= LOW_NPS:
                detractors += n
    dimensions = [
        {
            "dimension": value,
            "label": label,
            "n": dims[value][0],
            "mean": round(dims[value][2] / dims[value][0], 2),
            "satisfaction": pct(dims[value][1], dims[value][0]),
        }
        for value, label in Dimension.choices
        if dims.get(value) and dims[value][0]
    ]
    return {
        "scale": {
            "n": scale_n,
            "good": scale_good,
            "mean": round(scale_sum / scale_n, 2) if scale_n else None,
            "satisfaction": pct(scale_good, scale_n),
        },
        "nps": {
            "n": nps_n,
            "promoters": promoters,
            "detractors": detractors,
            "passives": nps_n - promoters - detractors,
            "nps": round(100 * (promoters - detractors) / nps_n, 1) if nps_n else None,
        },
        "dimensions": dimensions,
    }


def by_building(campaign: SurveyCampaign) -> list[dict]:
    answers = SurveyAnswer.objects.filter(campaign_id=campaign.pk, kind=QuestionKind.SCALE)
    rows = (
        answers.values("building_id", "building__name", "building__sort_order")
        .annotate(
            n=Count("id"),
            responses=Count("response_id", distinct=True),
            mean=Avg("score"),
            good=Count("id", filter=Q(score__gte=GOOD)),
        )
        .order_by("building__sort_order", "building__name")
    )
    out = []
    for r in rows:
        hidden = campaign.anonymous and r["responses"] < MIN_GROUP
        out.append(
            {
                "building_id": r["building_id"],
                "building": r["building__name"] or "—",
                "responses": r["responses"],
                "hidden": hidden,
                "mean": None if hidden else round(r["mean"], 2),
                "satisfaction": None if hidden else pct(r["good"], r["n"]),
            }
        )
    return out


def building_dimension_matrix(campaign: SurveyCampaign) -> dict:
    """Satisfaction per building × dimension, for the heat map."""
    rows = (
        SurveyAnswer.objects.filter(campaign_id=campaign.pk, kind=QuestionKind.SCALE)
        .values("building__name", "building__sort_order", "dimension")
        .annotate(
            n=Count("id"),
            responses=Count("response_id", distinct=True),
            good=Count("id", filter=Q(score__gte=GOOD)),
        )
        .order_by("building__sort_order", "building__name")
    )
    buildings: list[str] = []
    cells = []
    dims = [d for d, _label in Dimension.choices]
    for r in rows:
        name = r["building__name"] or "—"
        if name not in buildings:
            buildings.append(name)
        if campaign.anonymous and r["responses"] < MIN_GROUP:
            continue
        cells.append([dims.index(r["dimension"]), buildings.index(name), pct(r["good"], r["n"])])
    return {
        "buildings": buildings,
        "dimensions": [str(label) for _d, label in Dimension.choices],
        "cells": cells,
    }


def question_distributions(campaign: SurveyCampaign) -> list[dict]:
    """For each question: counts per option / score, or the number of written answers."""
    questions = list(campaign.questionnaire.questions.all())
    counts: dict[int, Counter] = defaultdict(Counter)
    answered: Counter = Counter()
    for qid, kind, score, choices in SurveyAnswer.objects.filter(
        campaign_id=campaign.pk
    ).values_list("question_id", "kind", "score", "choices"):
        answered[qid] += 1
        if kind in (QuestionKind.SCALE, QuestionKind.NPS):
            counts[qid][score] += 1
        elif kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            for index in choices or []:
                counts[qid][index] += 1
    out = []
    for q in questions:
        if q.kind == QuestionKind.SCALE:
            labels = [str(i) for i in range(1, 6)]
            values = [counts[q.pk].get(i, 0) for i in range(1, 6)]
        elif q.kind == QuestionKind.NPS:
            labels = [str(i) for i in range(0, 11)]
            values = [counts[q.pk].get(i, 0) for i in range(0, 11)]
        elif q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            labels = list(q.options)
            values = [counts[q.pk].get(i, 0) for i in range(len(q.options))]
        else:
            labels, values = [], []
        out.append(
            {
                "question": q,
                "answered": answered[q.pk],
                "labels": labels,
                "values": values,
            }
        )
    return out


def previous_campaign(campaign: SurveyCampaign) -> SurveyCampaign | None:
    """The community's survey before this one (the quarter-on-quarter comparison)."""
    return (
        SurveyCampaign.objects.filter(
            community_id=campaign.community_id,
            ends_on__lt=campaign.starts_on,
            state__in=[CampaignState.OPEN, CampaignState.CLOSED],
        )
        .order_by("-ends_on", "-id")
        .first()
    )


def trend(campaign: SurveyCampaign, *, limit: int = 6) -> list[dict]:
    """Satisfaction and NPS of the community's surveys up to this one, oldest first."""
    rows = list(
        SurveyCampaign.objects.filter(
            community_id=campaign.community_id,
            starts_on__lte=campaign.starts_on,
            state__in=[CampaignState.OPEN, CampaignState.CLOSED],
        ).order_by("-starts_on", "-id")[:limit]
    )
    out = []
    for row in reversed(rows):
        answers = SurveyAnswer.objects.filter(campaign_id=row.pk)
        out.append(
            {
                "campaign": row,
                "label": row.title,
                "satisfaction": scale_stats(answers)["satisfaction"],
                "nps": nps_stats(answers)["nps"],
                "dimensions": {d["dimension"]: d["satisfaction"] for d in by_dimension(answers)},
            }
        )
    return out


# --- free text ------------------------------------------------------------------------------------
_STOP = (
    "物业 小区 希望 建议 没有 一下 比较 非常 可以 就是 还是 现在 感觉 觉得 问题 我们 你们 他们 这个 那个 "
    "一些 有点 不是 什么 时候 已经 一直 还有 能够 应该 需要 目前 谢谢 感谢 其他 意见 方面 服务 工作 总体 "
    "整体 真的 特别 很多 不够 不太 太慢 一个 每次 经常 之后 以后 然后 但是 而且 如果 因为 所以"
)
STOP_WORDS = frozenset(_STOP.split())
WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$|^[A-Za-z]{3,}$")


def _tokens(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary loading is not news
    return [w for w in jieba.lcut(text) if WORD.match(w) and w not in STOP_WORDS]


def keywords(texts: list[str], *, top: int = 8, examples: int = 2) -> list[dict]:
    """The words most of ``texts`` mention (each text counted once per word), with examples."""
    if not texts:
        return []
    documents = Counter()
    where: dict[str, list[str]] = defaultdict(list)
    for text in texts:
        for word in set(_tokens(text)):
            documents[word] += 1
            if len(where[word]) < examples:
                where[word].append(text)
    ranked = sorted(documents.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        {"word": word, "count": count, "examples": where[word]}
        for word, count in ranked[:top]
        if count >= 1
    ]


def themes(campaign: SurveyCampaign) -> dict:
    """Free-text themes per dimension (the words written answers of that dimension mention
    most) and low-score drivers per dimension (the words in the written answers of the
    respondents who scored that dimension 3 or less), with example answers. Cached per campaign
    and response count."""
    key = f"anju:survey-themes:{campaign.pk}:{campaign.response_count}"
    found = cache.get(key)
    if found is not None:
        return found
    texts = list(
        SurveyAnswer.objects.filter(campaign_id=campaign.pk, kind=QuestionKind.TEXT)
        .exclude(text="")
        .values_list("response_id", "dimension", "text")
    )
    by_dim: dict[str, list[str]] = defaultdict(list)
    by_response: dict[int, list[str]] = defaultdict(list)
    for response_id, dimension, text in texts:
        by_dim[dimension].append(text)
        by_response[response_id].append(text)
    low = SurveyAnswer.objects.filter(
        campaign_id=campaign.pk, kind=QuestionKind.SCALE, score__lte=LOW_SCALE
    ).values_list("response_id", "dimension")
    low_by_dim: dict[str, set[int]] = defaultdict(set)
    for response_id, dimension in low:
        low_by_dim[dimension].add(response_id)
    labels = dict(Dimension.choices)
    result = {
        "themes": [
            {
                "dimension": d,
                "label": str(labels[d]),
                "n": len(by_dim[d]),
                "keywords": keywords(by_dim[d]),
            }
            for d in Dimension.values
            if by_dim.get(d)
        ],
        "drivers": [],
    }
    for d in Dimension.values:
        responses = low_by_dim.get(d)
        if not responses:
            continue
        written = [t for r in sorted(responses) for t in by_response.get(r, [])]
        result["drivers"].append(
            {
                "dimension": d,
                "label": str(labels[d]),
                "low": len(responses),
                "written": len(written),
                "keywords": keywords(written, top=6),
            }
        )
    result["drivers"].sort(key=lambda r: -r["low"])
    cache.set(key, result, 600)
    return result


def summary(campaign: SurveyCampaign) -> dict:
    """Everything the results page, export and report show about one campaign."""
    answers = SurveyAnswer.objects.filter(campaign_id=campaign.pk)
    previous = previous_campaign(campaign)
    previous_stats = None
    if previous is not None:
        prev_answers = SurveyAnswer.objects.filter(campaign_id=previous.pk)
        previous_stats = {
            "campaign": previous,
            "overall": scale_stats(prev_answers),
            "nps": nps_stats(prev_answers),
            "dimensions": {d["dimension"]: d for d in by_dimension(prev_answers)},
        }
    dimensions = by_dimension(answers)
    if previous_stats:
        for d in dimensions:
            before = previous_stats["dimensions"].get(d["dimension"])
            d["previous"] = before["satisfaction"] if before else None
            d["change"] = (
                round(d["satisfaction"] - before["satisfaction"], 1)
                if before and d["satisfaction"] is not None and before["satisfaction"] is not None
                else None
            )
    return {
        "overall": scale_stats(answers),
        "nps": nps_stats(answers),
        "dimensions": dimensions,
        "buildings": by_building(campaign),
        "previous": previous_stats,
        "response_rate": campaign.response_rate,
    }
