"""The monthly operations report (月度运营报告): a PDF per community and month, in Chinese,
with the month's KPIs against the previous month and the targets, charts, survey results, the
star-rating status, top issues and open actions. Drawn with ReportLab in Noto Sans SC, an
OFL-licensed font shipped with Anju (``anju/analytics/data/fonts``), so the report always finds
its font whatever the machine has installed."""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from anju.analytics import metrics
from anju.analytics.metrics import Period, add_months
from anju.analytics.models import MonthlyReport, ReportState
from anju.estates.models import Community

log = logging.getLogger(__name__)

FONT_PATH = Path(__file__).resolve().parent / "data" / "fonts" / "NotoSansSC-Regular.ttf"
FONT = "NotoSansSC"
BLUE = "#206bc4"
COLOURS = ["#206bc4", "#2fb344", "#f76707", "#d63939", "#ae3ec9", "#0ca678", "#f59f00", "#4263eb"]
_registered = False


def register_font() -> str:
    """Register the shipped font with ReportLab once per process."""
    global _registered
    if not _registered:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(FONT, str(FONT_PATH)))
        _registered = True
    return FONT


# --- queueing ------------------------------------------------------------------------------------
def last_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return add_months(date(today.year, today.month, 1), -1)


def queue(report: MonthlyReport) -> None:
    """Generate a report after the transaction commits (in a worker when there is a broker)."""
    from anju.analytics.tasks import generate_report

    transaction.on_commit(lambda: generate_report.delay(report.pk))


def queue_last_month(*, today: date | None = None) -> int:
    """Periodic: the previous month's report of every active community that has none yet."""
    month = last_month(today)
    created = 0
    for community in Community.objects.filter(is_active=True).only("id", "company_id"):
        with transaction.atomic():
            report, made = MonthlyReport.objects.get_or_create(
                community=community, month=month, defaults={"company_id": community.company_id}
            )
            if made:
                queue(report)
                created += 1
    return created


def generate(report_id: int) -> str:
    """Build and store one report; failures are recorded on the report, not raised."""
    report = MonthlyReport.objects.select_related("community__company").filter(pk=report_id).first()
    if report is None:
        return "missing"
    period = Period("month", report.month, add_months(report.month, 1))
    try:
        data, pages = build_pdf(report.community, period)
    except Exception as exc:  # noqa: BLE001 — any failure is shown on the report row
        log.exception("report %s failed", report_id)
        MonthlyReport.objects.filter(pk=report.pk).update(
            state=ReportState.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:300]
        )
        return "failed"
    name = f"report-{report.community_id}-{report.month:%Y%m}.pdf"
    old = report.file.name if report.file else ""
    report.file.save(name, ContentFile(data), save=False)
    MonthlyReport.objects.filter(pk=report.pk).update(
        file=report.file.name,
        size=len(data),
        pages=pages,
        state=ReportState.READY,
        error="",
        generated_at=timezone.now(),
    )
    if old and old != report.file.name:
        report.file.storage.delete(old)
    return "ready"


# --- content -------------------------------------------------------------------------------------
def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "min":
        return f"{value:.1f} 分钟"
    return f"{value:g}"


KPI_NAMES_ZH = {
    "survey_satisfaction": "住户满意度（调查）",
    "complaint_resolution_rate": "投诉解决率",
    "first_response_mean": "首次响应时长（均值）",
    "first_response_p90": "首次响应时长（P90）",
    "closure_mean": "办结时长（均值）",
    "closure_p90": "办结时长（P90）",
    "feedback_handling_mean": "反馈处理时长",
    "sla_attainment": "服务时限达成率",
    "escalation_rate": "工单升级率",
    "reopen_rate": "返修率（重新打开）",
    "return_visit_satisfaction": "回访满意率",
    "rating_satisfaction": "工单评价满意率",
    "request_volume": "受理工单数",
    "online_share": "线上渠道占比",
    "nps": "净推荐值（NPS）",
    "survey_response_rate": "调查参与率",
    "rectification_on_time": "整改按期完成率",
}
DIMENSIONS_ZH = {
    "security": "秩序维护",
    "cleaning": "保洁",
    "repair": "工程维修",
    "customer_service": "客服",
    "greening": "绿化",
    "convenience": "便民服务",
    "overall": "总体",
}
LEVELS_ZH = {"basic": "基础", "advanced": "进阶", "elite": "精英"}
KINDS_ZH = {"self": "自评", "third_party": "第三方评定"}
ACTION_STATES_ZH = {"open": "待处理", "done": "已完成", "verified": "已验证"}
RECTIFICATION_STATES_ZH = {"open": "待整改", "submitted": "待验证", "verified": "已验证"}


def report_data(community: Community, period: Period) -> dict:
    """What the report shows, read through the same definitions as the dashboard."""
    from anju.analytics.selectors import Node, community_figures, trend
    from anju.estates.scoping import Scope
    from anju.quality import results as survey_results
    from anju.quality.choices import AssessmentState, CampaignState, RectificationState
    from anju.quality.models import Assessment, GapAction, Rectification, SurveyCampaign
    from anju.quality.rating import gap_report
    from anju.quality.services import scored_items
    from anju.servicedesk.models import ImprovementAction, Rating, ServiceRequest

    now = community_figures(community, period)
    before = community_figures(community, period.previous())
    scope = Scope(
        user_id=None,
        role="",
        company_id=community.company_id,
        community_ids=frozenset({community.pk}),
    )
    node = Node(communities=[community], community=community)
    lines = []
    for code in KPI_NAMES_ZH:
        kpi = metrics.ALL_KPIS[code]
        value = now["values"].get(code)
        lines.append(
            {
                "code": code,
                "name": KPI_NAMES_ZH[code],
                "value": _fmt(value, kpi.unit),
                "previous": _fmt(before["values"].get(code), kpi.unit),
                "target": (("≥ " if kpi.better == "higher" else "≤ ") + _fmt(kpi.target, kpi.unit))
                if kpi.target is not None
                else "—",
                "meets": kpi.meets(value),
            }
        )
    lo, hi = period.bounds()
    requests = ServiceRequest.objects.filter(
        community=community, created_at__gte=lo, created_at__lt=hi
    )
    top_categories = list(
        requests.values("category__name").annotate(n=Count("id")).order_by("-n")[:8]
    )
    low = list(
        Rating.objects.filter(
            request__community=community, created_at__gte=lo, created_at__lt=hi, overall__lte=3
        )
        .select_related("request__category")
        .order_by("overall", "-created_at")[:6]
    )
    campaign = (
        SurveyCampaign.objects.filter(
            community=community,
            state__in=[CampaignState.OPEN, CampaignState.CLOSED],
            starts_on__lt=period.end,
        )
        .order_by("-ends_on", "-id")
        .first()
    )
    survey = None
    if campaign is not None:
        summary = survey_results.summary(campaign)
        themes = survey_results.themes(campaign)
        survey = {"campaign": campaign, "summary": summary, "drivers": themes["drivers"][:3]}
    assessment = (
        Assessment.objects.filter(community=community, state=AssessmentState.FINISHED)
        .order_by("-finished_at")
        .select_related("catalogue")
        .first()
    )
    stars = None
    if assessment is not None:
        gaps = gap_report(scored_items(assessment), assessment.catalogue.star_rule)
        stars = {"assessment": assessment, "gaps": gaps}
    actions = []
    for a in (
        ImprovementAction.objects.filter(community=community)
        .exclude(state="verified")
        .select_related("owner")[:6]
    ):
        actions.append(
            (
                "差评整改",
                a.description,
                a.owner.name,
                a.deadline,
                ACTION_STATES_ZH.get(a.state, a.state),
            )
        )
    for a in (
        GapAction.objects.filter(community=community)
        .exclude(state="verified")
        .select_related("owner", "standard")[:6]
    ):
        actions.append(
            (
                "星级提升",
                f"{a.standard.code} {a.description}",
                a.owner.name,
                a.deadline,
                ACTION_STATES_ZH.get(a.state, a.state),
            )
        )
    for r in (
        Rectification.objects.filter(community=community)
        .exclude(state=RectificationState.VERIFIED)
        .select_related("owner")[:6]
    ):
        actions.append(
            (
                "品质整改",
                r.description,
                r.owner.name,
                r.deadline,
                RECTIFICATION_STATES_ZH.get(r.state, r.state),
            )
        )
    return {
        "community": community,
        "period": period,
        "lines": lines,
        "figures": now,
        "trend": trend(scope=scope, node=node, period=period),
        "hours": [now["totals"].hours.get(str(h), 0) for h in range(24)],
        "top_categories": top_categories,
        "low_ratings": low,
        "survey": survey,
        "stars": stars,
        "actions": actions,
    }


def build_pdf(community: Community, period: Period) -> tuple[bytes, int]:
    """The report as PDF bytes, and its page count."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = register_font()
    data = report_data(community, period)
    title_style = ParagraphStyle(
        "t", fontName=font, fontSize=20, leading=26, textColor=colors.HexColor(BLUE)
    )
    h2 = ParagraphStyle(
        "h2",
        fontName=font,
        fontSize=13,
        leading=18,
        spaceBefore=8,
        spaceAfter=4,
        textColor=colors.HexColor("#1d273b"),
    )
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    small = ParagraphStyle(
        "s", fontName=font, fontSize=8, leading=11, textColor=colors.HexColor("#667382")
    )
    cell = ParagraphStyle("c", fontName=font, fontSize=8.5, leading=11)

    def table(rows, widths, header=True, zebra=True):
        t = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dce1e7")),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        if header:
            style += [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0fa")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.HexColor("#1d273b")),
            ]
        if zebra:
            for i in range(2, len(rows), 2):
                style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f6f8fb")))
        t.setStyle(TableStyle(style))
        return t

    def bar_chart(labels, values, width=170 * mm, height=48 * mm, colour=BLUE, title=""):
        d = Drawing(width, height)
        chart = VerticalBarChart()
        chart.x, chart.y = 28, 22
        chart.width, chart.height = width - 40, height - 40
        chart.data = [values or [0]]
        chart.categoryAxis.categoryNames = labels or [""]
        chart.categoryAxis.labels.fontName = font
        chart.categoryAxis.labels.fontSize = 6.5
        chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
        chart.categoryAxis.labels.dy = -6 if len(labels) > 8 else -2
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        chart.bars[0].fillColor = colors.HexColor(colour)
        chart.bars[0].strokeColor = None
        d.add(chart)
        if title:
            d.add(
                String(
                    28,
                    height - 10,
                    title,
                    fontName=font,
                    fontSize=8.5,
                    fillColor=colors.HexColor("#1d273b"),
                )
            )
        return d

    def line_chart(labels, series, width=170 * mm, height=56 * mm, title=""):
        d = Drawing(width, height)
        chart = HorizontalLineChart()
        chart.x, chart.y = 28, 22
        chart.width, chart.height = width - 130, height - 40
        chart.data = [list(s["values"]) for s in series]  # None: no point that month
        chart.categoryAxis.categoryNames = [m[2:] for m in labels]
        chart.categoryAxis.labels.fontName = font
        chart.categoryAxis.labels.fontSize = 6.5
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = 100
        for i, _s in enumerate(series):
            chart.lines[i].strokeColor = colors.HexColor(COLOURS[i % len(COLOURS)])
            chart.lines[i].strokeWidth = 1.5
        d.add(chart)
        for i, s in enumerate(series):
            y = height - 24 - i * 12
            d.add(
                String(
                    width - 95,
                    y,
                    "■",
                    fontName=font,
                    fontSize=9,
                    fillColor=colors.HexColor(COLOURS[i % len(COLOURS)]),
                )
            )
            d.add(String(width - 84, y, s["name"], fontName=font, fontSize=7.5))
        if title:
            d.add(
                String(
                    28,
                    height - 10,
                    title,
                    fontName=font,
                    fontSize=8.5,
                    fillColor=colors.HexColor("#1d273b"),
                )
            )
        return d

    out = io.BytesIO()
    pages = {"n": 0}

    def on_page(canvas, doc):
        pages["n"] += 1
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#667382"))
        canvas.drawString(
            18 * mm,
            10 * mm,
            f"{community.company} · {community.name} · {period.start:%Y年%m月}运营月报",
        )
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{community.name} {period.start:%Y年%m月} 物业运营月报",
        author=str(community.company),
    )
    story = [
        Paragraph(f"{community.name} · {period.start:%Y年%m月} 物业运营月报", title_style),
        Paragraph(
            f"{community.company} ｜ 统计口径：{period.start:%Y-%m-%d} 至 "
            f"{min(period.last_day, timezone.localdate()):%Y-%m-%d} 受理的工单"
            f"{'（本月至今）' if period.last_day > timezone.localdate() else ''} ｜ "
            f"生成时间 {timezone.localtime():%Y-%m-%d %H:%M}",
            small,
        ),
        Spacer(1, 6 * mm),
        Paragraph("一、核心指标", h2),
    ]
    rows = [["指标", "本月", "上月", "目标", "达标"]]
    for line in data["lines"]:
        mark = {True: "✓ 达标", False: "× 未达标", None: "—"}[line["meets"]]
        rows.append([line["name"], line["value"], line["previous"], line["target"], mark])
    t = table(rows, [52 * mm, 30 * mm, 30 * mm, 30 * mm, 24 * mm])
    for i, line in enumerate(data["lines"], start=1):
        if line["meets"] is False:
            t.setStyle(TableStyle([("TEXTCOLOR", (4, i), (4, i), colors.HexColor("#d63939"))]))
        elif line["meets"]:
            t.setStyle(TableStyle([("TEXTCOLOR", (4, i), (4, i), colors.HexColor("#2fb344"))]))
    story += [t, Spacer(1, 4 * mm)]
    tr = data["trend"]
    series = [
        {"name": "投诉解决率", "values": tr["series"]["complaint_resolution_rate"]["values"]},
        {"name": "时限达成率", "values": tr["series"]["sla_attainment"]["values"]},
        {"name": "评价满意率", "values": tr["series"]["rating_satisfaction"]["values"]},
    ]
    if any(v is not None for v in tr["survey"]):
        series.append({"name": "调查满意度", "values": tr["survey"]})
    series = [s for s in series if any(v is not None for v in s["values"])]
    story += [
        Paragraph("二、近12个月趋势（%）", h2),
        line_chart(tr["months"], series) if series else Paragraph("近12个月没有数据。", body),
        KeepTogether(
            [
                Paragraph("三、工单量", h2),
                bar_chart([str(h) for h in range(24)], data["hours"], title="按受理时段（时）"),
            ]
        ),
    ]
    if data["top_categories"]:
        cats = data["top_categories"]
        story.append(
            bar_chart(
                [c["category__name"] for c in cats],
                [c["n"] for c in cats],
                colour="#2fb344",
                title="按分类（前8位）",
            )
        )
    story.append(Paragraph("四、满意度调查", h2))
    survey = data["survey"]
    if survey is None:
        story.append(Paragraph("本月没有进行中的满意度调查。", body))
    else:
        s = survey["summary"]
        c = survey["campaign"]
        story.append(
            Paragraph(
                f"{c.title}（{c.starts_on:%Y-%m-%d} 至 {c.ends_on:%Y-%m-%d}）：回收 {c.response_count} 份，"
                f"参与率 {_fmt(s['response_rate'], '%')}；总体满意度 {_fmt(s['overall']['satisfaction'], '%')}，"
                f"平均分 {s['overall']['mean'] or '—'}；净推荐值 {_fmt(s['nps']['nps'], '')}。",
                body,
            )
        )
        dims = s["dimensions"]
        if dims:
            story.append(
                bar_chart(
                    [DIMENSIONS_ZH.get(d["dimension"], d["label"]) for d in dims],
                    [d["satisfaction"] or 0 for d in dims],
                    height=50 * mm,
                    colour="#ae3ec9",
                    title="各维度满意度（%）",
                )
            )
            rows = [["维度", "满意度", "平均分", "样本", "环比"]]
            for d in dims:
                change = d.get("change")
                rows.append(
                    [
                        DIMENSIONS_ZH.get(d["dimension"], d["label"]),
                        _fmt(d["satisfaction"], "%"),
                        f"{d['mean']:.2f}",
                        str(d["n"]),
                        "—" if change is None else f"{change:+.1f}",
                    ]
                )
            story.append(table(rows, [40 * mm, 30 * mm, 30 * mm, 30 * mm, 30 * mm]))
        if survey["drivers"]:
            # Each dimension's line stays with its example, and the heading with the first
            # dimension, so that a page break never leaves an orphan.
            blocks = []
            for d in survey["drivers"]:
                words = (
                    "、".join(f"{_escape(k['word'])}（{k['count']}）" for k in d["keywords"]) or "—"
                )
                label = _escape(str(DIMENSIONS_ZH.get(d["dimension"], d["label"])))
                block = [
                    Paragraph(f"<b>{label}</b>：{d['low']} 位住户打低分；关键词 {words}", body)
                ]
                for k in d["keywords"][:1]:
                    for example in k["examples"][:1]:
                        block.append(Paragraph(f"例：“{_escape(example)}”", small))
                blocks.append(block)
            blocks[0].insert(0, Paragraph("低分原因（低分住户的文字意见关键词）", h2))
            story.extend(KeepTogether(block) for block in blocks)
    story.append(Paragraph("五、星级服务评定", h2))
    stars = data["stars"]
    if stars is None:
        story.append(Paragraph("尚未完成星级评定。", body))
    else:
        a = stars["assessment"]
        gaps = stars["gaps"]
        scores = "，".join(f"{LEVELS_ZH[k]} {v:.1f}%" for k, v in a.level_scores.items())
        story.append(
            Paragraph(
                f"当前星级：<b>{'★' * (a.stars or 0)}{'☆' * (5 - (a.stars or 0))}（{a.stars or 0}星）</b>，"
                f"{KINDS_ZH.get(a.kind, a.kind)}，{timezone.localtime(a.finished_at):%Y-%m-%d} 完成；得分：{scores}。",
                body,
            )
        )
        if gaps["next"]:
            story.append(Paragraph(f"距离 {gaps['next']} 星的差距：", body))
            rows = [["等级", "得分", "要求", "差距项（缺失分值）"]]
            for level in gaps["levels"]:
                items = "、".join(
                    f"{i.code} {i.title}（{i.missing:g}）" for i in level["items"][:5]
                )
                rows.append(
                    [
                        LEVELS_ZH[level["level"]],
                        f"{level['score']:.1f}%",
                        f"≥ {level['needed']}%",
                        Paragraph(items or "—", cell),
                    ]
                )
            if gaps["veto_blocks"]:
                items = "、".join(f"{i.code} {i.title}" for i in gaps["veto_items"])
                rows.append(["一票否决", "—", "全部达标", Paragraph(items, cell)])
            story.append(table(rows, [22 * mm, 22 * mm, 22 * mm, 100 * mm]))
    story.append(Paragraph("六、突出问题", h2))
    if data["low_ratings"]:
        rows = [["工单", "分类", "评分", "住户评价"]]
        for r in data["low_ratings"]:
            rows.append(
                [
                    r.request.number or str(r.request_id),
                    r.request.category.name,
                    "★" * r.overall,
                    Paragraph(_escape(r.comment) or "—", cell),
                ]
            )
        story.append(table(rows, [36 * mm, 30 * mm, 18 * mm, 82 * mm]))
    else:
        story.append(Paragraph("本月没有3星及以下的评价。", body))
    story.append(Paragraph("七、改进措施跟踪", h2))
    if data["actions"]:
        rows = [["来源", "措施", "责任人", "期限", "状态"]]
        for source, text, owner, deadline, state in data["actions"]:
            rows.append(
                [source, Paragraph(_escape(text), cell), owner, f"{deadline:%Y-%m-%d}", state]
            )
        story.append(table(rows, [22 * mm, 78 * mm, 22 * mm, 24 * mm, 20 * mm]))
    else:
        story.append(Paragraph("没有未关闭的改进措施。", body))
    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            "指标口径见系统“指标说明”页：所有工单指标按受理时间归属月份，挂起等待时间不计入办结时长。",
            small,
        )
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return out.getvalue(), pages["n"]


def _escape(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text or "")
