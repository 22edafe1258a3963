import pytest


@pytest.mark.django_db
def test_world_builds(world):
    # given the standard world
    # when the HQ admin opens the console
    response = world.client("hq").get("/console/")
    # then it renders
    assert response.status_code == 200
    assert world.client("resident_a").get("/m/").status_code == 200
