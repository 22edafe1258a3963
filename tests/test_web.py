"""Entry pages: logging in and out, and the resident's mobile pages."""

from django.test import Client

from anju.estates.models import HouseholdMember
from tests.factories import ResidentFactory, UserFactory


def _login(username, password="anju1234", next_url=""):
    client = Client()
    url = "/login/" + (f"?next={next_url}" if next_url else "")
    return client, client.post(url, {"username": username, "password": password})


def test_staff_log_in_and_land_on_the_console(world):
    # when manager A logs in with their password
    client, response = _login("manager_a")
    # then they go home, and home sends them to the console
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_resident_logs_in_and_lands_on_their_home(world):
    client, response = _login("resident_a")
    assert client.get(response["Location"])["Location"] == "/m/"
    body = client.get("/m/").content.decode()
    assert world.community_a.name in body
    assert world.room_a101.label in body
    assert world.room_a102.label not in body


def test_wrong_password_shows_the_form_again(world):
    client, response = _login("manager_a", "wrong")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/console/").status_code == 302


def test_login_never_redirects_off_site(world):
    _client, response = _login("manager_a", next_url="https://evil.example/")
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_logout_ends_the_session(world):
    client, _ = _login("manager_a")
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302


def test_resident_me_page_names_their_community(world):
    body = world.client("resident_a").get("/m/me/").content.decode()
    assert world.community_a.name in body


def test_resident_without_a_room_sees_an_empty_home(world):
    # given a resident login whose record has no current room
    user = UserFactory(username="moved_away", role="resident")
    resident = ResidentFactory(community=world.community_b, user=user)
    assert not HouseholdMember.objects.filter(resident=resident).exists()
    client = Client()
    client.force_login(user)
    # when they open their pages
    home = client.get("/m/")
    household = client.get("/m/household/")
    # then both render without any room, naming their community
    assert home.status_code == household.status_code == 200
    assert world.community_b.name in home.content.decode()
    assert home.context["rooms"] == []
    assert household.context["rooms"] == []
