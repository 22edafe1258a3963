"""factory_boy factories for the estate registry."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from anju.core.choices import Role
from anju.estates import models
from anju.estates.choices import DepartmentKind, HouseholdRole


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "anju1234")
    role = Role.STAFF
    # Predictable names: a random Chinese name could equal a resident's name that a test
    # asserts is absent from a page (张伟 and 王芳 are the commonest names in China).
    display_name = factory.Sequence(lambda n: f"用户{n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Company

    name = factory.Sequence(lambda n: f"物业公司{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Community

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"小区{n}")
    code = factory.Sequence(lambda n: f"C{n}")
    address = "文三路1号"
    managed_area_m2 = Decimal("120000")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Building

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"{n + 1}栋")
    floors = 18


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Unit

    building = factory.SubFactory(BuildingFactory)
    name = factory.Sequence(lambda n: f"{n + 1}单元")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Room

    unit = factory.SubFactory(UnitFactory)
    building = factory.SelfAttribute("unit.building")
    community = factory.SelfAttribute("unit.building.community")
    number = factory.Sequence(lambda n: f"{n + 101}")
    floor = 1
    area_m2 = Decimal("89.50")


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Resident

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"住户{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    id_number = "330106199001011234"


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.HouseholdMember

    room = factory.SubFactory(RoomFactory)
    resident = factory.SubFactory(
        ResidentFactory, community=factory.SelfAttribute("..room.community")
    )
    role = HouseholdRole.OWNER


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Department
        django_get_or_create = ("company", "name")

    company = factory.SubFactory(CompanyFactory)
    kind = DepartmentKind.ENGINEERING
    name = "工程部"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Staff
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory)
    name = factory.SelfAttribute("user.display_name")
    mobile = factory.Sequence(lambda n: f"137{n:08d}")  # never a world resident's 138…

    @factory.post_generation
    def communities(self, create, extracted, **kwargs):
        if create and extracted:
            self.communities.set(extracted)


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Skill

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"skill{n}")
    name = factory.Sequence(lambda n: f"技能{n}")
