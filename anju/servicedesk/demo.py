"""Demo requests for ``anju demo``: a month of realistic history in every state, created
through the real services and then moved back in time."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from anju.core.choices import Role
from anju.estates.models import HouseholdMember, Staff
from anju.estates.scoping import scope_for
from anju.servicedesk import services
from anju.servicedesk.choices import Channel, HoldReason
from anju.servicedesk.models import (
    Category,
    Rating,
    RequestEvent,
    ReturnVisit,
    ServiceRequest,
)

DESCRIPTIONS = {
    "repair.plumbing": [
        "厨房水槽下水管漏水，地上一摊水",
        "卫生间马桶堵了，冲不下去",
        "阳台地漏返臭味，麻烦来看一下",
        "热水器进水阀滴水不停",
    ],
    "repair.electrical": [
        "客厅灯不亮了，换了灯泡也不行",
        "家里总闸老是跳闸",
        "楼道声控灯坏了，晚上很黑",
        "插座冒火花，不敢用了",
    ],
    "repair.elevator": [
        "2号电梯门关不上，一直反复开关",
        "电梯运行时有异响，晃得厉害",
        "电梯按钮失灵，按了没反应",
    ],
    "repair.access": ["单元门禁刷卡没反应", "地库道闸不抬杆", "楼下可视对讲没有声音"],
    "repair.structure": ["卧室天花板渗水发霉", "外墙瓷砖松动，有掉落风险", "窗户关不严漏风"],
    "repair.common": ["小区健身器材坏了一个", "儿童乐园滑梯有裂缝", "垃圾分类亭的门坏了"],
    "complaint.noise": [
        "楼上每天晚上十一点后还在拖桌子",
        "隔壁装修周末一早就开始电钻",
        "广场舞音乐太吵，影响休息",
    ],
    "complaint.sanitation": ["单元门口垃圾两天没清了", "地库有积水还有异味", "楼道里有人堆放杂物"],
    "complaint.parking": ["有车长期占用消防通道", "我的车位被别人占了", "地库车辆乱停"],
    "complaint.fees": ["物业费账单金额和去年不一样，想核对", "停车费多扣了一个月"],
    "complaint.staff": ["保安态度不好", "前台电话一直没人接"],
    "complaint.greening": ["楼下树枝挡住窗户了，想修剪", "草坪很久没打理了"],
    "complaint.neighbor": ["邻居家狗一直叫", "楼道里有狗粪没人清理"],
    "consult": ["请问装修需要办理什么手续", "门禁卡丢了怎么补办", "物业费可以线上交吗"],
    "suggestion": ["建议在小区门口加装快递柜", "建议增加电动车充电桩"],
    "praise": ["感谢王师傅半夜来修水管", "保洁阿姨很负责，楼道非常干净"],
}


LOW_COMMENTS = [
    "处理太慢了，等了一下午",
    "师傅没带配件，又跑了一趟",
    "修完没多久又坏了",
    "态度一般，没说清楚原因",
    "现场没有清理干净",
]
GOOD_COMMENTS = ["", "", "师傅很专业", "很快就修好了，谢谢", "服务态度很好"]


def seed_demo_requests(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    rng = random.Random(7)
    company = result["company"]
    categories = {c.code: c for c in Category.objects.filter(company=company)}
    count = 0
    for community in result["communities"]:
        staff = list(
            Staff.objects.filter(
                communities=community, is_active=True, user__role__in=[Role.STAFF, Role.SUPERVISOR]
            )
            .select_related("user", "department")
            .prefetch_related("skills")
        )
        desk = Staff.objects.filter(communities=community, user__role=Role.FRONT_DESK).first()
        members = list(
            HouseholdMember.objects.filter(
                room__community=community, moved_out__isnull=True, role="owner"
            ).select_related("resident", "room")[:400]
        )
        if not staff or desk is None or not members:
            continue
        desk_scope = scope_for(desk.user)
        for i in range(70):
            code = rng.choice(list(DESCRIPTIONS))
            member = rng.choice(members)
            days_ago = rng.random() * 30 if i >= 18 else rng.random() * 0.15
            _one(rng, desk_scope, community, categories[code], member, staff, days_ago, i)
            count += 1
    verbose(f"  {count} service requests")


def _pick(staff, category):
    fit = [s for s in staff if category.default_skill in {k.code for k in s.skills.all()}]
    fit = (
        fit
        or [s for s in staff if s.department and s.department.kind == category.default_department]
        or staff
    )
    return fit


@transaction.atomic
def _one(rng, desk_scope, community, category, member, staff, days_ago, i) -> None:
    text = rng.choice(DESCRIPTIONS[category.code])
    request = services.request_submit(
        scope=desk_scope,
        channel=rng.choice([Channel.FRONT_DESK, Channel.HOTLINE]),
        submission=services.Submission(
            community=community,
            category=category,
            description=text,
            room=member.room,
            requester=member.resident,
            contact_name=member.resident.name,
            contact_mobile=member.resident.mobile,
            priority=rng.choices(["urgent", "high", "normal", "low"], [5, 20, 65, 10])[0],
        ),
    )
    # Old requests are mostly finished; a few stay open as the backlog a real desk has.
    if days_ago > 2:
        fate = rng.random() if rng.random() < 0.06 else 0.45 + rng.random() * 0.55
    else:
        fate = rng.random() if days_ago > 0.2 else rng.random() * 0.45
    if fate < 0.12:
        _shift(request, days_ago)
        return
    assignee = rng.choice(_pick(staff, category))
    request = services.request_assign(scope=desk_scope, request=request, assignee=assignee)
    tech_scope = scope_for(assignee.user)
    if fate < 0.2:
        _shift(request, days_ago)
        return
    request = services.request_accept(scope=tech_scope, request=request)
    if fate < 0.3:
        _shift(request, days_ago)
        return
    request = services.request_start(scope=tech_scope, request=request)
    if fate < 0.36:
        request = services.request_hold(
            scope=tech_scope, request=request, reason=HoldReason.WAITING_PARTS, note="等配件到货"
        )
        _shift(request, days_ago)
        return
    if fate < 0.45:
        _shift(request, days_ago)
        return
    request = services.request_resolve(
        scope=tech_scope,
        request=request,
        completion=services.Completion(work_done="已处理完毕，现场恢复正常"),
    )
    if fate < 0.55:
        _shift(request, days_ago)
        return
    resident_user = member.resident.user
    stars = rng.choices([5, 4, 3, 2], [70, 17, 9, 4])[0]
    if category.request_type in ("praise", "suggestion", "consultation"):
        stars = max(stars, 4)
    if resident_user is not None:
        services.request_rate(
            scope=scope_for(resident_user),
            request=request,
            overall=stars,
            timeliness=stars,
            attitude=min(5, stars + 1),
        )
    else:
        Rating.objects.create(
            request=request,
            resident=member.resident,
            overall=stars,
            timeliness=stars,
            attitude=min(5, stars + 1),
            comment=rng.choice(LOW_COMMENTS) if stars <= 3 else rng.choice(GOOD_COMMENTS),
        )
        services.request_confirm(scope=desk_scope, request=request)
    _shift(request, days_ago)


def _shift(request: ServiceRequest, days_ago: float) -> None:
    """Move a request's whole history back by ``days_ago`` days."""
    delta = timedelta(days=days_ago)
    fields = [
        "created_at",
        "respond_by",
        "resolve_by",
        "assigned_at",
        "responded_at",
        "started_at",
        "resolved_at",
        "closed_at",
        "auto_close_at",
        "paused_at",
        "next_escalation_at",
    ]
    ServiceRequest.objects.filter(pk=request.pk).update(**{f: F(f) - delta for f in fields})
    plan = [
        {**step, "at": (timezone.datetime.fromisoformat(step["at"]) - delta).isoformat()}
        for step in (request.escalation_plan or [])
    ]
    ServiceRequest.objects.filter(pk=request.pk).update(escalation_plan=plan)
    RequestEvent.objects.filter(request=request).update(created_at=F("created_at") - delta)
    Rating.objects.filter(request=request).update(created_at=F("created_at") - delta)
    ReturnVisit.objects.filter(request=request).update(
        due_at=F("due_at") - delta, created_at=F("created_at") - delta
    )
