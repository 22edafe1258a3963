"""Demo notices for ``anju demo``: a water cut and a lift service for the demo resident's
building, an announcement in every community, an expired power cut and a draft."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from anju.engagement.choices import NoticeCategory, NoticeState
from anju.engagement.models import Notice
from anju.estates.models import Building, HouseholdMember

WEEKDAYS = "一二三四五六日"


def _day(d) -> str:
    return f"{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def seed_demo_notices(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    communities = result["communities"]
    now = timezone.now()
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    tomorrow = today + timedelta(days=1)
    in_two = today + timedelta(days=2)

    def at(d, hour: int) -> datetime:
        return timezone.make_aware(datetime.combine(d, time(hour)), tz)

    home = (
        HouseholdMember.objects.filter(resident__user__username="resident", moved_out__isnull=True)
        .select_related("room__building")
        .first()
    )
    first = communities[0]
    buildings = list(Building.objects.filter(community=first).order_by("sort_order", "name")[:3])
    if home is not None and home.room.community_id == first.pk:
        buildings = [home.room.building] + [b for b in buildings if b.pk != home.room.building_id]
        buildings = buildings[:3]
    names = "、".join(b.name for b in buildings)
    with transaction.atomic():
        water = Notice.objects.create(
            company=first.company,
            community=first,
            category=NoticeCategory.WATER_CUT,
            title=f"停水通知：{_day(tomorrow)} 9:00-17:00 {names}",
            body=(
                f"尊敬的业主：因市政供水管网改造，定于{_day(tomorrow)}9:00至17:00对{names}"
                "暂停供水。请提前做好储水准备，停水期间请关闭家中水龙头，以免恢复供水时跑水。"
                f"如提前恢复将另行通知。咨询电话：{first.phone or '物业服务中心'}。"
            ),
            valid_from=now - timedelta(hours=3),
            valid_until=at(tomorrow, 18),
            state=NoticeState.PUBLISHED,
            published_at=now - timedelta(hours=3),
        )
        water.buildings.set(buildings)
        lift = Notice.objects.create(
            company=first.company,
            community=first,
            category=NoticeCategory.ELEVATOR,
            title=f"电梯维保：{_day(in_two)} 14:00-16:00 {buildings[0].name}",
            body=(
                f"{_day(in_two)}14:00至16:00，{buildings[0].name}电梯进行半月例行维护保养，"
                "保养期间该电梯暂停使用，请业主错峰出行或使用同单元另一部电梯。"
                "如遇紧急情况请拨打电梯内紧急呼叫或物业值班电话。给您带来不便，敬请谅解。"
            ),
            valid_from=now - timedelta(hours=1),
            valid_until=at(in_two, 17),
            state=NoticeState.PUBLISHED,
            published_at=now - timedelta(hours=1),
        )
        lift.buildings.set(buildings[:1])
        for c in communities:
            Notice.objects.create(
                company=c.company,
                community=c,
                category=NoticeCategory.SAFETY,
                title="关于开展夏季消防安全检查的通知",
                body=(
                    "本周起物业将对各楼栋消防通道、消火栓、灭火器进行全面检查。"
                    "请业主不要在楼道、消防通道堆放杂物，电动车请勿进楼入户充电，"
                    "统一到小区充电棚充电。感谢配合！"
                ),
                valid_from=now - timedelta(days=2),
                valid_until=now + timedelta(days=12),
                state=NoticeState.PUBLISHED,
                published_at=now - timedelta(days=2),
            )
            Notice.objects.create(
                company=c.company,
                community=c,
                category=NoticeCategory.GENERAL,
                title="物业服务费缴纳提醒",
                body=(
                    "本月物业服务费账单已生成，可在「账单」中查看。"
                    "可到物业服务中心使用微信、支付宝、银行卡或现金缴纳，也可银行转账。"
                    "按时缴费可获得积分，感谢您对物业工作的支持。"
                ),
                valid_from=now - timedelta(days=5),
                valid_until=now + timedelta(days=25),
                state=NoticeState.PUBLISHED,
                published_at=now - timedelta(days=5),
            )
        Notice.objects.create(
            company=first.company,
            community=first,
            category=NoticeCategory.POWER_CUT,
            title="停电通知（已结束）：配电房检修",
            body="上月配电房例行检修停电，已于当日恢复供电。",
            valid_from=now - timedelta(days=40),
            valid_until=now - timedelta(days=38),
            state=NoticeState.PUBLISHED,
            published_at=now - timedelta(days=40),
        )
        Notice.objects.create(
            company=first.company,
            community=first,
            category=NoticeCategory.GENERAL,
            title="中秋游园活动报名（草稿）",
            body="中秋节当晚在中心花园举办游园猜灯谜活动，欢迎业主报名参加。",
            valid_from=now + timedelta(days=3),
            state=NoticeState.DRAFT,
        )
    verbose(f"  notices: {Notice.objects.filter(company=first.company).count()}")
