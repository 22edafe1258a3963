"""The estate registry: company → community → building → unit → room, and the people in it."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anju.core.models import TimeStampedModel
from anju.estates.choices import (
    BuildingKind,
    CommitteeKind,
    DepartmentKind,
    Gender,
    HouseholdRole,
    ResidentTag,
    RoomStatus,
    RoomUse,
    ServiceLevel,
)

mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter an 11-digit mainland mobile number, e.g. 13812345678.")
)
id_number_validator = RegexValidator(
    r"^(\d{17}[\dXx]|[A-Za-z0-9\-]{5,20})$",
    _("Enter an 18-digit resident ID number or a passport number."),
)


class Company(TimeStampedModel):
    """A property-management company (物业服务企业): the tenant that owns everything below it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=32, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    phone = models.CharField(_("service hotline"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class Community(TimeStampedModel):
    """A managed residential community (小区 / 项目)."""

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="communities", verbose_name=_("company")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=32, help_text=_("Short code, e.g. HYY."))
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200)
    managed_area_m2 = models.DecimalField(
        _("managed area (m²)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        default=0,
    )
    service_level = models.CharField(
        _("service level"),
        max_length=16,
        choices=ServiceLevel.choices,
        default=ServiceLevel.LEVEL_2,
    )
    phone = models.CharField(_("service desk phone"), max_length=32, blank=True)
    office_hours = models.CharField(_("office hours"), max_length=64, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    is_active = models.BooleanField(_("in service"), default=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="community_unique_name"),
            models.UniqueConstraint(fields=["company", "code"], name="community_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("estates:community_detail", args=[self.pk])


class Building(TimeStampedModel):
    """A building (楼栋) of a community. ``site_x``/``site_y`` place it on the site plan (metres),
    which dispatch uses for walking distances."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=32, help_text=_("e.g. Building 1"))
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(
        _("kind"), max_length=16, choices=BuildingKind.choices, default=BuildingKind.HIGH_RISE
    )
    floors = models.PositiveSmallIntegerField(_("floors above ground"), default=1)
    basement_floors = models.PositiveSmallIntegerField(_("basement floors"), default=0)
    has_elevator = models.BooleanField(_("has elevator"), default=True)
    completed_year = models.PositiveSmallIntegerField(_("year completed"), null=True, blank=True)
    site_x = models.FloatField(_("site plan x (m)"), default=0)
    site_y = models.FloatField(_("site plan y (m)"), default=0)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["community_id", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="building_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("estates:building_detail", args=[self.pk])


class Unit(TimeStampedModel):
    """A stairwell unit (单元) of a building."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("building")
    )
    name = models.CharField(_("name"), max_length=32, help_text=_("e.g. Unit 1"))
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building_id", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="unit_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.building.name}{self.name}"


class Room(TimeStampedModel):
    """A dwelling or other room (房屋). ``building`` and ``community`` repeat the unit's so that
    scoped lists filter on one indexed column."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("unit")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("building")
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("community")
    )
    number = models.CharField(_("room number"), max_length=16)
    floor = models.SmallIntegerField(_("floor"))
    area_m2 = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    use = models.CharField(
        _("use"), max_length=16, choices=RoomUse.choices, default=RoomUse.RESIDENTIAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RoomStatus.choices, default=RoomStatus.VACANT
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["community_id", "building_id", "unit_id", "floor", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="room_unique_number"),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("estates:room_detail", args=[self.pk])

    @property
    def label(self) -> str:
        """The address inside the community, e.g. ``1栋2单元1201``."""
        return f"{self.building.name}{self.unit.name}{self.number}"


class Resident(TimeStampedModel):
    """A person who owns or lives in rooms of one community (业主 / 住户). A person with homes in
    two communities has a record in each, so every record belongs to exactly one community."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="residents", verbose_name=_("community")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident",
        verbose_name=_("login"),
    )
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN, blank=True
    )
    mobile = models.CharField(_("mobile"), max_length=11, validators=[mobile_validator])
    id_number = models.CharField(
        _("ID number"), max_length=20, blank=True, validators=[id_number_validator]
    )
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["community_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "mobile"], name="resident_unique_mobile_per_community"
            ),
        ]
        indexes = [
            # The console's list order; ``is_active`` rides along so that counting and skipping
            # the active residents of a community never reads the table.
            models.Index(fields=["community", "name", "id", "is_active"]),
            models.Index(fields=["mobile"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("estates:resident_detail", args=[self.pk])

    @property
    def tag_codes(self) -> list[str]:
        return [t.tag for t in self.taggings.all()]


class ResidentTagging(models.Model):
    """One tag on a resident (老人, 儿童, 宠物…)."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="taggings")
    tag = models.CharField(_("tag"), max_length=16, choices=ResidentTag.choices)

    class Meta:
        verbose_name = _("resident tag")
        verbose_name_plural = _("resident tags")
        constraints = [
            models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique"),
        ]
        indexes = [models.Index(fields=["tag", "resident"])]

    def __str__(self) -> str:
        return self.get_tag_display()


class HouseholdMember(TimeStampedModel):
    """A resident's place in a room's household: owner, tenant or family, from move-in to
    move-out. The current household of a room is its members without a move-out date."""

    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="members", verbose_name=_("room")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("resident")
    )
    role = models.CharField(_("relation"), max_length=16, choices=HouseholdRole.choices)
    moved_in = models.DateField(_("moved in"), null=True, blank=True)
    moved_out = models.DateField(_("moved out"), null=True, blank=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["room_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "resident"],
                condition=Q(moved_out__isnull=True),
                name="household_member_unique_current",
            ),
            models.CheckConstraint(
                condition=Q(moved_out__isnull=True)
                | Q(moved_in__isnull=True)
                | Q(moved_out__gte=models.F("moved_in")),
                name="household_member_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} · {self.room} · {self.get_role_display()}"

    @property
    def is_current(self) -> bool:
        return self.moved_out is None


class Department(models.Model):
    """A department of a company: customer service, engineering, security…"""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="departments", verbose_name=_("company")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=DepartmentKind.choices)
    name = models.CharField(_("name"), max_length=32)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="department_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """A trade skill a staff member holds (给排水, 电工, 电梯…); dispatch matches on it."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="skills", verbose_name=_("company")
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=32)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["company_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="skill_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Staff(TimeStampedModel):
    """An employee with a login: department, position, skills, certificates and the communities
    they serve. The login's role decides what they may do."""

    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="staff", verbose_name=_("company")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff",
        verbose_name=_("login"),
    )
    name = models.CharField(_("name"), max_length=64)
    employee_no = models.CharField(_("employee number"), max_length=32, blank=True)
    mobile = models.CharField(_("mobile"), max_length=11, validators=[mobile_validator])
    id_number = models.CharField(
        _("ID number"), max_length=20, blank=True, validators=[id_number_validator]
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
        verbose_name=_("department"),
    )
    position = models.CharField(_("position"), max_length=32, blank=True)
    skills = models.ManyToManyField(
        Skill, blank=True, related_name="staff", verbose_name=_("skills")
    )
    communities = models.ManyToManyField(
        Community, blank=True, related_name="staff", verbose_name=_("communities served")
    )
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    is_active = models.BooleanField(_("on the job"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["company_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("estates:staff_detail", args=[self.pk])


class Certificate(models.Model):
    """A professional certificate of a staff member (电工证, 特种设备作业证…)."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("staff member")
    )
    name = models.CharField(_("certificate"), max_length=64)
    number = models.CharField(_("certificate number"), max_length=64, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["staff_id", "name"]

    def __str__(self) -> str:
        return self.name


class CommitteeSeat(TimeStampedModel):
    """A seat on a community's owners' committee (业委会) or the residents' committee (居委会)
    that observes it. Owners' committee members are residents; observers need not be."""

    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="committee_seats",
        verbose_name=_("community"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="committee_seats",
        verbose_name=_("login"),
    )
    kind = models.CharField(_("committee"), max_length=16, choices=CommitteeKind.choices)
    title = models.CharField(_("title"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("committee seat")
        verbose_name_plural = _("committee seats")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user", "kind"], name="committee_seat_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} · {self.get_kind_display()} · {self.user}"


class InviteCode(TimeStampedModel):
    """A one-time code a front-desk clerk issues for a room; a resident registers with it."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="invites", verbose_name=_("room")
    )
    code = models.CharField(_("invite code"), max_length=12, unique=True)
    role = models.CharField(_("relation"), max_length=16, choices=HouseholdRole.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("used by"),
    )
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("invite code")
        verbose_name_plural = _("invite codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code
