"""What a company gets out of the box: the category tree, an office-hours calendar with China's
public holidays, SLA policies per type × priority and an escalation chain. Everything here is
editable per company (and SLA/escalation per community) afterwards."""

from __future__ import annotations

from datetime import time

from django.db import transaction
from django.utils import timezone

from anju.estates.choices import DepartmentKind as D
from anju.servicedesk.calendars import china_public_days, invalidate
from anju.servicedesk.choices import EscalationTarget as T
from anju.servicedesk.choices import Priority as P
from anju.servicedesk.choices import RequestType as R
from anju.servicedesk.choices import ReturnVisitPolicy as V
from anju.servicedesk.models import (
    BusinessCalendar,
    CalendarDay,
    Category,
    DeskSettings,
    EscalationLevel,
    SlaPolicy,
    WorkingInterval,
)

# code, name, type, department, skill, priority, return-visit policy
CATEGORIES = [
    ("repair", "报修", R.REPAIR, D.ENGINEERING, "", P.NORMAL, V.SKIP_IF_RATED_WELL),
    (
        "repair.plumbing",
        "给排水",
        R.REPAIR,
        D.ENGINEERING,
        "plumbing",
        P.NORMAL,
        V.SKIP_IF_RATED_WELL,
    ),
    (
        "repair.electrical",
        "电力照明",
        R.REPAIR,
        D.ENGINEERING,
        "electrical",
        P.NORMAL,
        V.SKIP_IF_RATED_WELL,
    ),
    ("repair.elevator", "电梯", R.REPAIR, D.ENGINEERING, "elevator", P.HIGH, V.ALWAYS),
    (
        "repair.access",
        "门禁与安防设施",
        R.REPAIR,
        D.ENGINEERING,
        "access",
        P.NORMAL,
        V.SKIP_IF_RATED_WELL,
    ),
    (
        "repair.structure",
        "房屋本体",
        R.REPAIR,
        D.ENGINEERING,
        "structure",
        P.NORMAL,
        V.SKIP_IF_RATED_WELL,
    ),
    (
        "repair.common",
        "公共设施",
        R.REPAIR,
        D.ENGINEERING,
        "structure",
        P.NORMAL,
        V.SKIP_IF_RATED_WELL,
    ),
    ("complaint", "投诉", R.COMPLAINT, D.CUSTOMER_SERVICE, "", P.HIGH, V.ALWAYS),
    ("complaint.noise", "噪音扰民", R.COMPLAINT, D.SECURITY, "patrol", P.HIGH, V.ALWAYS),
    ("complaint.sanitation", "环境卫生", R.COMPLAINT, D.CLEANING, "cleaning", P.NORMAL, V.ALWAYS),
    ("complaint.parking", "停车与车辆", R.COMPLAINT, D.SECURITY, "patrol", P.NORMAL, V.ALWAYS),
    ("complaint.fees", "收费争议", R.COMPLAINT, D.FINANCE, "", P.NORMAL, V.ALWAYS),
    (
        "complaint.staff",
        "服务与履约",
        R.COMPLAINT,
        D.CUSTOMER_SERVICE,
        "customer",
        P.HIGH,
        V.ALWAYS,
    ),
    (
        "complaint.construction",
        "违建、装修与住改商",
        R.COMPLAINT,
        D.SECURITY,
        "patrol",
        P.NORMAL,
        V.ALWAYS,
    ),
    ("complaint.safety", "安全隐患", R.COMPLAINT, D.SECURITY, "patrol", P.HIGH, V.ALWAYS),
    ("complaint.greening", "绿化", R.COMPLAINT, D.GREENING, "gardening", P.NORMAL, V.ALWAYS),
    (
        "complaint.neighbor",
        "邻里与宠物",
        R.COMPLAINT,
        D.CUSTOMER_SERVICE,
        "customer",
        P.NORMAL,
        V.ALWAYS,
    ),
    ("consult", "咨询", R.CONSULTATION, D.CUSTOMER_SERVICE, "customer", P.NORMAL, V.NEVER),
    ("suggestion", "建议", R.SUGGESTION, D.CUSTOMER_SERVICE, "customer", P.LOW, V.NEVER),
    ("praise", "表扬", R.PRAISE, D.CUSTOMER_SERVICE, "customer", P.LOW, V.NEVER),
]

# type → priority → (respond minutes, resolve minutes, office hours?)
SLA_TABLE = {
    R.REPAIR: {
        P.URGENT: (15, 240, False),
        P.HIGH: (30, 480, False),
        P.NORMAL: (30, 1440, True),
        P.LOW: (60, 2880, True),
    },
    R.COMPLAINT: {
        P.URGENT: (15, 120, False),
        P.HIGH: (30, 120, True),
        P.NORMAL: (30, 120, True),
        P.LOW: (60, 480, True),
    },
    R.CONSULTATION: {
        P.URGENT: (15, 60, False),
        P.HIGH: (30, 120, True),
        P.NORMAL: (30, 240, True),
        P.LOW: (60, 480, True),
    },
    R.SUGGESTION: {
        P.URGENT: (30, 480, True),
        P.HIGH: (60, 960, True),
        P.NORMAL: (120, 1440, True),
        P.LOW: (240, 2880, True),
    },
    R.PRAISE: {
        P.URGENT: (30, 480, True),
        P.HIGH: (60, 960, True),
        P.NORMAL: (120, 1440, True),
        P.LOW: (240, 2880, True),
    },
}

# clock, percent, target, warning only
ESCALATION_CHAIN = [
    ("respond", 100, T.SUPERVISOR, False),
    ("resolve", 80, T.ASSIGNEE, True),
    ("resolve", 100, T.SUPERVISOR, False),
    ("resolve", 150, T.MANAGER, False),
    ("resolve", 200, T.COMPANY, False),
]

OFFICE_HOURS = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]


@transaction.atomic
def install_defaults(company) -> None:
    """Give a company the default desk set-up; existing entries are left alone."""
    DeskSettings.objects.get_or_create(company=company)
    existing = set(Category.objects.filter(company=company).values_list("code", flat=True))
    Category.objects.bulk_create(
        Category(
            company=company,
            code=code,
            name=name,
            request_type=rtype,
            default_department=dept,
            default_skill=skill,
            default_priority=prio,
            return_visit_policy=visit,
            sort_order=i,
        )
        for i, (code, name, rtype, dept, skill, prio, visit) in enumerate(CATEGORIES)
        if code not in existing
    )
    calendar = BusinessCalendar.objects.filter(company=company, community__isnull=True).first()
    if calendar is None:
        calendar = BusinessCalendar.objects.create(company=company, name="客服工作时间")
        WorkingInterval.objects.bulk_create(
            WorkingInterval(calendar=calendar, weekday=day, start=start, end=end)
            for day in range(5)
            for start, end in OFFICE_HOURS
        )
        year = timezone.localdate().year
        install_public_days(calendar, [year - 1, year, year + 1])
    if not SlaPolicy.objects.filter(company=company, community__isnull=True).exists():
        SlaPolicy.objects.bulk_create(
            SlaPolicy(
                company=company,
                request_type=rtype,
                priority=prio,
                respond_minutes=respond,
                resolve_minutes=resolve,
                calendar=calendar if office else None,
            )
            for rtype, table in SLA_TABLE.items()
            for prio, (respond, resolve, office) in table.items()
        )
    if not EscalationLevel.objects.filter(company=company, community__isnull=True).exists():
        EscalationLevel.objects.bulk_create(
            EscalationLevel(
                company=company, clock=clock, percent=pct, target=target, is_warning=warning
            )
            for clock, pct, target, warning in ESCALATION_CHAIN
        )


def install_public_days(calendar: BusinessCalendar, years: list[int]) -> int:
    """Add China's holidays and make-up working days for ``years`` (dates already set are
    kept); returns how many were added."""
    known = set(calendar.days.values_list("date", flat=True))
    rows = [
        CalendarDay(calendar=calendar, date=d, kind=kind, name=name)
        for year in years
        for d, kind, name in china_public_days(year)
        if d not in known
    ]
    CalendarDay.objects.bulk_create(rows)
    calendar.save(update_fields=["updated_at"])
    invalidate(calendar.pk)
    return len(rows)
