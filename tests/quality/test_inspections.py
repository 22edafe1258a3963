"""Quality inspections (品质巡查) and rectification orders (整改单): issues found need an order
with an owner and a deadline; the owner reports it done with photos; the inspector verifies it
or sends it back; overdue orders remind their owner once a day; a bad photo stores nothing."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from anju.core.errors import Conflict, Invalid, NotFound
from anju.notifications.models import Notification
from anju.quality import services
from anju.quality.models import QualityFile, QualityInspection, Rectification
from tests.quality.conftest import as_, jpeg, staff

pytestmark = pytest.mark.django_db


def inspect(world, **kw):
    args = {
        "scope": as_(world, "manager_a"),
        "community": world.community_a,
        "inspected_on": timezone.localdate(),
        "area": "3栋地库",
        "category": "environment",
        "result": "issues",
        "finding": "地库积水、垃圾未清",
        "rectifications": [
            services.RectificationInput(
                description="清理积水和垃圾",
                owner=staff(world, "tech_a"),
                deadline=timezone.localdate() + timedelta(days=2),
            )
        ],
    }
    args.update(kw)
    return services.inspection_create(**args)


def test_the_rectification_loop(quality, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # given an inspection that found issues
    inspection = inspect(quality, files=[jpeg("现场.jpg")])
    order = Rectification.objects.get(inspection=inspection)
    assert order.number.startswith("ZG") and order.state == "open"
    # then the owner was told
    assert Notification.objects.filter(
        user=quality.users["tech_a"], event="quality.rectification"
    ).exists()
    # when the owner reports it done without a photo, it is refused
    tech = as_(quality, "tech_a")
    with pytest.raises(Invalid):
        services.rectification_submit(scope=tech, rectification=order, response="已清理")
    # with a photo it waits for verification
    order = services.rectification_submit(
        scope=tech, rectification=order, response="已清理", files=[jpeg("整改后.jpg")]
    )
    assert order.state == "submitted"
    # the inspector sends it back with a reason, the owner reports again, it is verified
    manager = as_(quality, "manager_a")
    with pytest.raises(Invalid):
        services.rectification_verify(scope=manager, rectification=order, accepted=False)
    order = services.rectification_verify(
        scope=manager, rectification=order, accepted=False, note="仍有积水"
    )
    assert (order.state, order.returned_count) == ("open", 1)
    order = services.rectification_submit(scope=tech, rectification=order, response="已抽水")
    order = services.rectification_verify(
        scope=manager, rectification=order, accepted=True, note="复查合格"
    )
    assert order.state == "verified" and order.verified_by_id == quality.users["manager_a"].pk
    # and a verified order cannot be verified twice
    with pytest.raises(Conflict):
        services.rectification_verify(scope=manager, rectification=order, accepted=True)


def test_who_may_do_what(quality):
    inspection = inspect(quality)
    order = Rectification.objects.get(inspection=inspection)
    # a technician who does not own the order, or staff of another community, do not reach it
    with pytest.raises(NotFound):
        services.rectification_submit(
            scope=as_(quality, "staff_b"), rectification=order, response="x", files=[jpeg()]
        )
    # only holders of the inspection permission inspect
    with pytest.raises(Exception) as raised:
        inspect(quality, scope=as_(quality, "tech_a"))
    assert raised.type.__name__ in ("Forbidden", "NotFound")
    with pytest.raises(NotFound):
        inspect(quality, scope=as_(quality, "outsider"))


@pytest.mark.parametrize(
    "change",
    [
        {"rectifications": []},  # issues without an order
        {"inspected_on": timezone.localdate() + timedelta(days=1)},
        {"area": ""},
        {"category": "nonsense"},
        {"finding": "<img src=x onerror=alert(1)>"},
        {"files": [SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")]},
    ],
)
def test_bad_inspections_store_nothing(quality, settings, tmp_path, change):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(Invalid):
        inspect(quality, **change)
    assert not QualityInspection.objects.exists() and not Rectification.objects.exists()
    assert not QualityFile.objects.exists() and not list(tmp_path.rglob("*.*"))


def test_overdue_orders_remind_their_owner_once_a_day(quality):
    inspection = inspect(quality)
    Rectification.objects.filter(inspection=inspection).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    assert services.remind_overdue_rectifications() == 1
    assert services.remind_overdue_rectifications() == 0
    later = timezone.now() + timedelta(days=1, minutes=1)
    assert services.remind_overdue_rectifications(now=later) == 1
    assert Notification.objects.filter(event="quality.rectification_overdue").count() == 2


def test_documents_are_recognised_by_content(quality, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from anju.quality.files import prepare_files

    pdf = SimpleUploadedFile("记录.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    renamed = SimpleUploadedFile(
        "记录.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    assert prepare_files([pdf])[0].content_type == "application/pdf"
    with pytest.raises(Invalid):
        prepare_files([renamed])
