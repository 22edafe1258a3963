"""Excel export of a survey's results (openpyxl): summary by dimension, buildings, each
question's answers, free-text answers and the raw responses. Anonymous surveys never carry
the household; others carry the room only for those who may see residents."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from anju.quality import results
from anju.quality.choices import QuestionKind, SurveyChannel
from anju.quality.models import SurveyAnswer, SurveyCampaign


def campaign_workbook(campaign: SurveyCampaign, *, with_rooms: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    bold, head = Font(bold=True), PatternFill("solid", fgColor="E8F0FA")

    def header(sheet, row):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = bold, head

    summary = results.summary(campaign)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    ws.append([_("Survey"), campaign.title])
    ws.append([_("Community"), campaign.community.name])
    ws.append([_("Period"), f"{campaign.starts_on} – {campaign.ends_on}"])
    ws.append(
        [_("Responses"), campaign.response_count, _("Target households"), campaign.target_count]
    )
    ws.append([_("Response rate (%)"), summary["response_rate"]])
    ws.append(
        [
            _("Satisfaction (%)"),
            summary["overall"]["satisfaction"],
            _("Mean (1–5)"),
            summary["overall"]["mean"],
        ]
    )
    ws.append(
        [
            "NPS",
            summary["nps"]["nps"],
            _("Promoters"),
            summary["nps"]["promoters"],
            _("Detractors"),
            summary["nps"]["detractors"],
        ]
    )
    ws.append([])
    header(
        ws,
        [
            _("Dimension"),
            _("Answers"),
            _("Mean (1–5)"),
            _("Satisfaction (%)"),
            _("Previous survey (%)"),
            _("Change"),
        ],
    )
    for d in summary["dimensions"]:
        ws.append(
            [
                str(d["label"]),
                d["n"],
                d["mean"],
                d["satisfaction"],
                d.get("previous"),
                d.get("change"),
            ]
        )
    ws.column_dimensions["A"].width = 24

    sheet = wb.create_sheet(_("Buildings")[:31])
    header(sheet, [_("Building"), _("Responses"), _("Mean (1–5)"), _("Satisfaction (%)")])
    for b in summary["buildings"]:
        sheet.append([b["building"], b["responses"], b["mean"], b["satisfaction"]])

    sheet = wb.create_sheet(_("Questions")[:31])
    for dist in results.question_distributions(campaign):
        q = dist["question"]
        header(
            sheet,
            [
                q.text,
                q.get_kind_display(),
                q.get_dimension_display(),
                _("Answered"),
                dist["answered"],
            ],
        )
        for label, value in zip(dist["labels"], dist["values"], strict=True):
            sheet.append([label, value])
        sheet.append([])
    sheet.column_dimensions["A"].width = 60

    sheet = wb.create_sheet(_("Written answers")[:31])
    header(sheet, [_("Dimension"), _("Question"), _("Answer")])
    for a in (
        SurveyAnswer.objects.filter(campaign_id=campaign.pk, kind=QuestionKind.TEXT)
        .exclude(text="")
        .select_related("question")
        .order_by("dimension", "id")
    ):
        sheet.append([a.get_dimension_display(), a.question.text, a.text])
    sheet.column_dimensions["B"].width = 40
    sheet.column_dimensions["C"].width = 80

    questions = list(campaign.questionnaire.questions.all())
    sheet = wb.create_sheet(_("Responses")[:31])
    columns = [pgettext("survey", "Response"), _("Submitted"), _("Channel"), _("Building")]
    show_room = with_rooms and not campaign.anonymous
    if show_room:
        columns.append(_("Room"))
    header(sheet, [*columns, *[q.text for q in questions]])
    channels = dict(SurveyChannel.choices)
    answers: dict[int, dict[int, object]] = {}
    for a in SurveyAnswer.objects.filter(campaign_id=campaign.pk).only(
        "response_id", "question_id", "kind", "score", "choices", "text"
    ):
        if a.kind in (QuestionKind.SCALE, QuestionKind.NPS):
            value = a.score
        elif a.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            options = next((q.options for q in questions if q.pk == a.question_id), [])
            value = "、".join(options[i] for i in a.choices if i < len(options))
        else:
            value = a.text
        answers.setdefault(a.response_id, {})[a.question_id] = value
    for r in campaign.responses.select_related("building", "room__unit", "room__building").order_by(
        "submitted_at", "id"
    ):
        row = [
            r.pk,
            r.submitted_at.strftime("%Y-%m-%d %H:%M"),
            str(channels.get(r.channel, r.channel)),
            r.building.name if r.building else "",
        ]
        if show_room:
            row.append(r.room.label if r.room else "")
        row += [answers.get(r.pk, {}).get(q.pk) for q in questions]
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
