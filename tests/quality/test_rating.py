"""The star-rating system: the default catalogue (30 hard standards, three levels × four
categories), the documented star rule with its veto and the gap report, assessments with
automatic checks measured by analytics' KPI definitions, evidence, improvement actions to
closure, and versioned catalogues."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.translation import gettext

from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.quality import services
from anju.quality.checks import CHECKS
from anju.quality.choices import ItemResult
from anju.quality.defaults import DEFAULT_STANDARDS
from anju.quality.models import (
    AssessmentItem,
    GapAction,
    QualityFile,
    Standard,
    StandardCatalogue,
    default_star_rule,
)
from anju.quality.rating import Scored, gap_report, level_scores, stars_for
from tests.quality.conftest import as_, jpeg, staff
from tests.servicedesk.conftest import MONDAY_9AM, new_request_in

pytestmark = pytest.mark.django_db
RULE = default_star_rule()


def items(basic="pass", advanced="pass", elite="pass", **special):
    """Ten standards of weight 1 per level, all with the given result, some overridden."""
    out = []
    for level, result in (("basic", basic), ("advanced", advanced), ("elite", elite)):
        for i in range(10):
            code = f"{level}-{i}"
            out.append(
                Scored(
                    level=level,
                    category="environment" if i else "safety",
                    weight=1,
                    result=special.get(code, result),
                    code=code,
                )
            )
    return out


def test_default_catalogue_has_thirty_standards_in_three_levels_and_four_categories():
    levels = {(s[1], s[2]) for s in DEFAULT_STANDARDS}
    assert len(DEFAULT_STANDARDS) == 30
    assert {lvl for lvl, _c in levels} == {"basic", "advanced", "elite"}
    assert {c for _l, c in levels} == {"safety", "environment", "convenience", "humanity"}
    assert len({s[0] for s in DEFAULT_STANDARDS}) == 30
    # and every automatic check names a KPI analytics measures, with a target
    for s in DEFAULT_STANDARDS:
        if s[7]:
            assert s[7] in CHECKS and s[8] is not None


@pytest.mark.parametrize(
    "scored, stars",
    [
        (items(), 5),
        (items(elite="fail"), 3),  # elite 0 % < 50 %
        (items(**{f"elite-{i}": "fail" for i in range(1, 5)}), 4),  # elite 60 %: 4★ needs 50, 5★ 80
        (items(advanced="partial", elite="fail"), 0 + 2),  # advanced 50 % < 60 %: 2★
        (items(basic="partial"), 0),  # basic 50 % < 60 %
        (items(**{"basic-1": "fail", "basic-2": "fail", "basic-3": "fail"}), 1),  # basic 70 %
    ],
)
def test_star_rule(scored, stars):
    assert stars_for(scored, RULE).stars == stars


def test_veto_and_not_applicable():
    # a basic safety standard not met caps five stars at two
    outcome = stars_for(items(**{"basic-0": "fail"}), RULE)
    assert (outcome.stars, outcome.vetoed) == (2, True)
    # "not applicable" leaves the total: nine of nine met is 100 %
    assert level_scores(items(**{"basic-5": "na"}))["basic"] == 100.0
    # and a level without applicable standards counts 100
    assert level_scores(items(elite="na"))["elite"] == 100.0


def test_gap_report_lists_what_blocks_the_next_star():
    # given advanced at 70 % (3★ needs 60, 4★ needs 80) and elite all met
    scored = items(**{f"advanced-{i}": "fail" for i in range(3)})
    report = gap_report(scored, RULE)
    # then the next star is 4, blocked by advanced only, 1 point short, the failed ones listed
    assert (report["stars"], report["next"]) == (3, 4)
    assert [lvl["level"] for lvl in report["levels"]] == ["advanced"]
    assert report["levels"][0]["points_short"] == 1.0
    assert [i.code for i in report["levels"][0]["items"]] == [
        "advanced-0",
        "advanced-1",
        "advanced-2",
    ]


def assessment_for(world):
    return services.assessment_start(
        scope=as_(world, "manager_a"),
        community=world.community_a,
        kind="self",
        period_start=MONDAY_9AM.date() - timedelta(days=30),
        period_end=MONDAY_9AM.date(),
    )


def test_assessment_measures_automatic_standards(quality, category):
    # given a month with one closed request: responded at once, all within its deadlines
    with time_machine.travel(MONDAY_9AM, tick=False):
        new_request_in(quality, category, "closed")
        # when an assessment starts
        assessment = assessment_for(quality)
    # then each measurable standard is measured from the system's own data
    item = assessment.items.get(standard__code="JC-BJ-01")  # P90 first response ≤ 30 min
    assert item.auto and item.result == ItemResult.PASS and item.measured_value == 0
    sla = assessment.items.get(standard__code="JJ-AQ-03")
    assert sla.result == ItemResult.PASS and sla.measured_value == 100
    # without data (no complaints, no surveys) it is left to the assessor
    assert assessment.items.get(standard__code="JC-BJ-03").result == ItemResult.PENDING
    # (stored in the site's language, the way the services wrote it)
    assert assessment.items.get(standard__code="JC-RW-01").measured == gettext(
        "No data in the period"
    )
    # and manual standards wait for the assessor
    assert assessment.items.get(standard__code="JC-AQ-01").result == ItemResult.PENDING


def test_assessing_with_evidence_finishing_and_improving(quality, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assessment = assessment_for(quality)
    manager = as_(quality, "manager_a")
    patrol = assessment.items.get(standard__code="JC-AQ-01")
    # a standard met needs evidence
    with pytest.raises(Invalid):
        services.item_assess(scope=manager, item=patrol, result="pass")
    services.item_assess(
        scope=manager, item=patrol, result="pass", note="巡更记录齐全", files=[jpeg("巡更.jpg")]
    )
    assert QualityFile.objects.filter(item=patrol).count() == 1
    # a technician may not assess
    with pytest.raises(Forbidden):
        services.item_assess(scope=as_(quality, "tech_a"), item=patrol, result="fail")
    # finishing waits until every standard is decided
    with pytest.raises(Invalid):
        services.assessment_finish(scope=manager, assessment=assessment)
    fire = assessment.items.get(standard__code="JC-AQ-02")
    for item in AssessmentItem.objects.filter(assessment=assessment, result="pending"):
        result = "fail" if item.pk == fire.pk else "pass"
        if item.auto:
            AssessmentItem.objects.filter(pk=item.pk).update(result=result)
        else:
            services.item_assess(
                scope=manager,
                item=item,
                result=result,
                files=[jpeg()] if result == "pass" else None,
            )
    assessment = services.assessment_finish(scope=manager, assessment=assessment)
    # then the failed fire inspection (basic safety) caps the stars at two
    assert (assessment.stars, assessment.vetoed) == (2, True)
    with pytest.raises(Conflict):
        services.assessment_finish(scope=manager, assessment=assessment)
    # and an improvement action follows it to closure
    action = services.gap_action_create(
        scope=manager,
        assessment=assessment,
        standard=fire.standard,
        owner=staff(quality, "tech_a"),
        description="更换压力不足的灭火器",
        deadline=timezone.localdate() + timedelta(days=7),
    )
    with pytest.raises(NotFound):  # someone else's action, out of reach
        services.gap_action_update(
            scope=as_(quality, "staff_b"), action=GapAction.objects.get(pk=action.pk), state="done"
        )
    services.gap_action_update(
        scope=as_(quality, "tech_a"),
        action=GapAction.objects.get(pk=action.pk),
        state="done",
        outcome="已更换",
    )
    with pytest.raises(Forbidden):
        services.gap_action_update(
            scope=as_(quality, "tech_a"),
            action=GapAction.objects.get(pk=action.pk),
            state="verified",
        )
    services.gap_action_update(
        scope=manager, action=GapAction.objects.get(pk=action.pk), state="verified"
    )
    assert GapAction.objects.get(pk=action.pk).state == "verified"


def test_catalogue_versions(quality):
    hq = as_(quality, "hq")
    published = StandardCatalogue.objects.get(company=quality.company)
    old = assessment_for(quality)
    # a published version is frozen
    standard = published.standards.first()
    data = services.StandardInput(
        code=standard.code,
        level="basic",
        category="safety",
        title="改",
        criterion="改",
        weight=3,
        evidence_rule="改",
    )
    with pytest.raises(Conflict):
        services.standard_save(scope=hq, catalogue=published, standard=standard, data=data)
    # a new version is a draft copy to edit; only the company admin may make one
    with pytest.raises(Forbidden):
        services.catalogue_new_version(scope=as_(quality, "manager_a"), catalogue=published)
    draft = services.catalogue_new_version(scope=hq, catalogue=published)
    assert (draft.version, draft.standards.count()) == (2, 30)
    services.standard_save(
        scope=hq,
        catalogue=draft,
        data=services.StandardInput(
            code="JY-RW-03",
            level="elite",
            category="humanity",
            title="志愿服务",
            criterion="每季度组织志愿服务2次",
            weight=2,
            evidence_rule="活动照片",
        ),
    )
    with pytest.raises(Invalid):  # codes are unique in a version
        services.standard_save(
            scope=hq,
            catalogue=draft,
            data=services.StandardInput(
                code="JY-RW-03",
                level="elite",
                category="humanity",
                title="x",
                criterion="x",
                weight=2,
                evidence_rule="x",
            ),
        )
    # publishing it retires the old version; the old assessment keeps its version
    services.catalogue_publish(scope=hq, catalogue=draft)
    published.refresh_from_db()
    assert published.state == "retired"
    assert old.catalogue_id == published.pk and old.items.count() == 30
    assert assessment_for(quality).items.count() == 31
    assert Standard.objects.filter(catalogue=published).count() == 30
