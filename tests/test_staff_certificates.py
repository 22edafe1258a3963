"""Staff certificates are recorded and removed from the staff page by those who manage staff."""

import pytest

from anju.estates.models import Certificate

pytestmark = pytest.mark.django_db


def test_manager_records_and_removes_a_certificate(world):
    # given the technician of community A
    tech = world.users["tech_a"].staff
    manager = world.client("manager_a")
    # when the manager records an electrician's licence
    response = manager.post(
        f"/console/estates/staff/{tech.pk}/certificates/",
        {"name": "低压电工作业证", "number": "T123", "valid_until": "2028-01-31"},
    )
    # then it is on the staff page
    assert response.status_code == 302
    certificate = Certificate.objects.get(staff=tech)
    assert certificate.number == "T123"
    assert "低压电工作业证" in manager.get(f"/console/estates/staff/{tech.pk}/").content.decode()
    # and it can be removed again
    manager.post(f"/console/estates/staff/{tech.pk}/certificates/{certificate.pk}/delete/")
    assert not Certificate.objects.filter(staff=tech).exists()


def test_staff_without_the_permission_cannot_add_certificates(world):
    tech = world.users["tech_a"].staff
    response = world.client("tech_a").post(
        f"/console/estates/staff/{tech.pk}/certificates/", {"name": "假证"}
    )
    assert response.status_code == 403
    assert not Certificate.objects.exists()


def test_an_empty_name_is_refused(world):
    tech = world.users["tech_a"].staff
    world.client("manager_a").post(f"/console/estates/staff/{tech.pk}/certificates/", {"name": ""})
    assert not Certificate.objects.exists()
