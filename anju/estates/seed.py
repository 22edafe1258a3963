"""Realistic demo data: a property company with communities, buildings, rooms, households and
staff. ``small`` is the demo (3 communities, ~2,400 rooms, ~5,000 residents, ~60 staff);
``large`` is for benchmarks (50 communities, ~200,000 residents). Bulk inserts throughout."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connections, router, transaction
from faker.providers.person.zh_CN import Provider as PersonProvider

from anju.core.choices import Role
from anju.estates.choices import (
    BuildingKind,
    DepartmentKind,
    Gender,
    HouseholdRole,
    ResidentTag,
    RoomStatus,
    RoomUse,
    ServiceLevel,
)
from anju.estates.models import (
    Building,
    Certificate,
    CommitteeSeat,
    Community,
    Company,
    Department,
    HouseholdMember,
    Resident,
    ResidentTagging,
    Room,
    Skill,
    Staff,
    Unit,
)

DEMO_PASSWORD = "anju1234"

LAST_NAMES = list(PersonProvider.last_names.keys())
LAST_WEIGHTS = list(PersonProvider.last_names.values())
GIVEN = list(PersonProvider.first_names)
SINGLE_GIVEN = [g for g in GIVEN if len(g) == 1]

COMMUNITY_NAMES = [
    "翠湖苑",
    "锦绣华庭",
    "阳光花园",
    "紫金府",
    "银杏里",
    "江南春晓",
    "桂语兰庭",
    "金色家园",
    "云栖雅苑",
    "西溪诚园",
    "和睦新村",
    "滨江御景",
    "湖畔星城",
    "香樟公寓",
    "望月名邸",
    "丽水湾",
    "东方润园",
    "青枫佳苑",
    "书香门第",
    "绿城桃李",
    "中海寰宇",
    "万科城市花园",
    "新港嘉园",
    "秋水云庐",
    "梧桐雅居",
    "南湖一品",
    "碧桂园凤凰城",
    "北辰旭辉",
    "天元名苑",
    "凯旋门",
    "钱江新城",
    "康乐新村",
    "四季华庭",
    "玉泉山庄",
    "松鹤苑",
    "嘉禾苑",
    "瑞景园",
    "海棠湾",
    "龙湖春江郦城",
    "融信澜天",
    "世茂云图",
    "保利天悦",
    "招商雍和府",
    "华润悦府",
    "蓝城桃花源",
    "金地自在城",
    "融创玉兰公馆",
    "雅居乐国际花园",
    "绿地海珀",
    "宝龙城市广场",
]
DISTRICTS = [("浙江省", "杭州市", d) for d in ("西湖区", "拱墅区", "上城区", "滨江区", "余杭区")]
STREETS = [
    "文三路",
    "教工路",
    "莫干山路",
    "江南大道",
    "古墩路",
    "天目山路",
    "庆春路",
    "留和路",
    "丰潭路",
    "紫金港路",
    "之江路",
    "文一西路",
    "建国北路",
    "秋涛路",
    "西溪路",
]

SKILLS = [
    ("plumbing", "给排水"),
    ("electrical", "电工"),
    ("elevator", "电梯"),
    ("access", "门禁弱电"),
    ("structure", "土建木工"),
    ("hvac", "暖通空调"),
    ("fire", "消防设施"),
    ("waterproofing", "防水油漆"),
    ("gardening", "园艺养护"),
    ("cleaning", "保洁"),
    ("patrol", "巡逻安防"),
    ("customer", "客户接待"),
]
DEPARTMENT_NAMES = {
    DepartmentKind.CUSTOMER_SERVICE: "客服部",
    DepartmentKind.ENGINEERING: "工程部",
    DepartmentKind.SECURITY: "秩序部",
    DepartmentKind.CLEANING: "保洁部",
    DepartmentKind.GREENING: "绿化部",
    DepartmentKind.OPERATIONS: "运营部",
    DepartmentKind.FINANCE: "财务部",
}
# (department, positions, skill codes, certificate) per staff member; ~20 per community.
STAFF_PLAN = [
    (DepartmentKind.CUSTOMER_SERVICE, "客服专员", ["customer"], None, 3),
    (DepartmentKind.ENGINEERING, "维修工", ["plumbing", "structure", "waterproofing"], None, 2),
    (DepartmentKind.ENGINEERING, "电工", ["electrical", "access"], "低压电工作业证", 2),
    (DepartmentKind.ENGINEERING, "电梯管理员", ["elevator"], "特种设备安全管理员证", 1),
    (DepartmentKind.ENGINEERING, "暖通技工", ["hvac", "fire"], "消防设施操作员证", 1),
    (DepartmentKind.SECURITY, "秩序维护员", ["patrol"], "保安员证", 5),
    (DepartmentKind.CLEANING, "保洁员", ["cleaning"], None, 3),
    (DepartmentKind.GREENING, "绿化工", ["gardening"], None, 1),
]


@dataclass(frozen=True)
class SeedSize:
    communities: int
    buildings: int  # per community
    units: int  # per building
    floors: int
    rooms_per_floor: int
    occupancy: float
    people_per_household: float


SIZES = {
    "small": SeedSize(3, 10, 2, 20, 2, 0.85, 2.45),
    "large": SeedSize(50, 24, 2, 20, 2, 0.86, 2.45),
}


class Seeder:
    """Builds one company's data. Deterministic for a given ``seed``."""

    def __init__(
        self, *, size: str = "small", seed: int = 42, company_name: str = "", verbose=print
    ):
        self.size = SIZES[size]
        self.size_name = size
        self.rng = random.Random(seed)
        self.company_name = company_name or "安居物业服务有限公司"
        self.say = verbose
        self.password = make_password(DEMO_PASSWORD)
        self.used_mobiles: set[str] = set()

    # --- helpers ---------------------------------------------------------------------------
    def name(self) -> str:
        last = self.rng.choices(LAST_NAMES, LAST_WEIGHTS)[0]
        given = self.rng.choice(GIVEN)
        if len(given) == 1 and self.rng.random() < 0.6:
            given += self.rng.choice(SINGLE_GIVEN)
        return last + given

    def mobile(self) -> str:
        while True:
            prefix = self.rng.choice(
                [
                    "138",
                    "139",
                    "135",
                    "136",
                    "137",
                    "150",
                    "151",
                    "158",
                    "159",
                    "186",
                    "187",
                    "188",
                    "177",
                    "199",
                    "133",
                    "189",
                ]
            )
            value = prefix + f"{self.rng.randrange(10**8):08d}"
            if value not in self.used_mobiles:
                self.used_mobiles.add(value)
                return value

    def id_number(self, birth_year: int) -> str:
        region = self.rng.choice(["330106", "330105", "330102", "330108", "330110"])
        body = f"{region}{birth_year}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
        body += f"{self.rng.randrange(1000):03d}"
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
        return body + check

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> dict:
        with transaction.atomic():
            result = self._run()
        self._analyze()
        return result

    def _analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load, so that the first queries on the
        new data get the same plans as later ones. Outside a transaction PostgreSQL also
        vacuums, which lets list pages count and skip rows from the indexes alone."""
        connection = connections[router.db_for_write(Resident)]
        tables = [
            model._meta.db_table
            for model in (Community, Building, Unit, Room, Resident, ResidentTagging)
        ] + [HouseholdMember._meta.db_table, Staff._meta.db_table]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                cursor.execute(f"{verb} {', '.join(connection.ops.quote_name(t) for t in tables)}")
            elif connection.vendor == "sqlite":
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    def _run(self) -> dict:
        company = Company.objects.create(
            name=self.company_name,
            short_name=self.company_name.removesuffix("服务有限公司")[:8],
            credit_code="91330100MA2" + f"{self.rng.randrange(10**7):07d}",
            phone="400-800-" + f"{self.rng.randrange(10**4):04d}",
            address="杭州市西湖区文三路90号",
        )
        departments = {
            kind: Department.objects.create(company=company, kind=kind, name=name)
            for kind, name in DEPARTMENT_NAMES.items()
        }
        skills = {
            code: Skill.objects.create(company=company, code=code, name=name)
            for code, name in SKILLS
        }
        communities = self._communities(company)
        self.say(f"  {len(communities)} communities")
        rooms = self._estate(communities)
        self.say(f"  {len(rooms)} rooms")
        resident_count = self._residents(communities, rooms)
        self.say(f"  {resident_count} residents")
        staff = self._staff(company, communities, departments, skills)
        self.say(f"  {len(staff)} staff")
        logins = self._demo_logins(company, communities, departments, skills)
        return {"company": company, "communities": communities, "logins": logins}

    def _communities(self, company) -> list[Community]:
        names = COMMUNITY_NAMES[:]
        self.rng.shuffle(names)
        items = []
        for i in range(self.size.communities):
            name = names[i % len(names)] + ("" if i < len(names) else f"{i // len(names) + 1}期")
            province, city, district = self.rng.choice(DISTRICTS)
            area = (
                self.size.buildings
                * self.size.units
                * self.size.floors
                * self.size.rooms_per_floor
                * 105
                * 1.25
            )
            items.append(
                Community(
                    company=company,
                    name=name,
                    code=f"C{i + 1:03d}",
                    province=province,
                    city=city,
                    district=district,
                    address=f"{self.rng.choice(STREETS)}{self.rng.randint(1, 999)}号",
                    managed_area_m2=Decimal(round(area, 2)),
                    service_level=self.rng.choice(
                        [
                            ServiceLevel.LEVEL_1,
                            ServiceLevel.LEVEL_2,
                            ServiceLevel.LEVEL_2,
                            ServiceLevel.LEVEL_3,
                        ]
                    ),
                    phone=f"0571-8{self.rng.randrange(10**6):06d}",
                    office_hours="08:30-12:00, 13:30-17:30",
                    latitude=Decimal("30.27") + Decimal(self.rng.randint(-600, 600)) / 10000,
                    longitude=Decimal("120.15") + Decimal(self.rng.randint(-900, 900)) / 10000,
                )
            )
        return Community.objects.bulk_create(items)

    def _estate(self, communities) -> list[Room]:
        s = self.size
        buildings = []
        for community in communities:
            for b in range(1, s.buildings + 1):
                buildings.append(
                    Building(
                        community=community,
                        name=f"{b}栋",
                        sort_order=b,
                        kind=BuildingKind.HIGH_RISE if s.floors > 11 else BuildingKind.MULTI_STOREY,
                        floors=s.floors,
                        basement_floors=1,
                        has_elevator=s.floors > 6,
                        completed_year=self.rng.randint(2005, 2020),
                        site_x=((b - 1) % 5) * 60.0,
                        site_y=((b - 1) // 5) * 70.0,
                    )
                )
        buildings = Building.objects.bulk_create(buildings, batch_size=2000)
        units = [
            Unit(building=b, name=f"{u}单元", sort_order=u)
            for b in buildings
            for u in range(1, s.units + 1)
        ]
        units = Unit.objects.bulk_create(units, batch_size=2000)
        rooms = []
        for unit in units:
            building = unit.building
            for floor in range(1, s.floors + 1):
                for n in range(1, s.rooms_per_floor + 1):
                    area = (
                        Decimal(self.rng.choice([68, 89, 89, 105, 118, 128, 143]))
                        + Decimal(self.rng.randint(0, 99)) / 100
                    )
                    rooms.append(
                        Room(
                            unit=unit,
                            building=building,
                            community_id=building.community_id,
                            number=f"{floor}{n:02d}",
                            floor=floor,
                            area_m2=area,
                            use=RoomUse.RESIDENTIAL,
                            status=RoomStatus.VACANT,
                        )
                    )
        return Room.objects.bulk_create(rooms, batch_size=5000)

    def _residents(self, communities, rooms) -> int:
        s = self.size
        rng = self.rng
        this_year = date.today().year
        households: list[tuple[Room, list[tuple[Resident, str]]]] = []
        residents: list[Resident] = []
        tags: list[tuple[int, str]] = []  # (resident index, tag)
        for room in rooms:
            if rng.random() > s.occupancy:
                continue
            rented = rng.random() < 0.18
            room.status = (
                RoomStatus.RENTED
                if rented
                else (RoomStatus.RENOVATING if rng.random() < 0.03 else RoomStatus.OCCUPIED)
            )
            size = max(1, min(6, round(rng.gauss(s.people_per_household, 1.1))))
            members = []
            head_year = rng.randint(1945, 1995)
            for i in range(size):
                if i == 0:
                    year, role = (
                        head_year,
                        (HouseholdRole.TENANT if rented else HouseholdRole.OWNER),
                    )
                elif i == 1:
                    year, role = (
                        head_year + rng.randint(-4, 4),
                        (HouseholdRole.TENANT if rented else HouseholdRole.FAMILY),
                    )
                else:
                    year, role = (
                        rng.choice(
                            [head_year + rng.randint(22, 35), head_year - rng.randint(22, 30)]
                        ),
                        HouseholdRole.FAMILY,
                    )
                year = max(1930, min(this_year - 1, year))
                adult = this_year - year >= 18
                resident = Resident(
                    community_id=room.community_id,
                    name=self.name(),
                    gender=rng.choice([Gender.MALE, Gender.FEMALE]),
                    mobile=self.mobile(),
                    id_number=self.id_number(year) if adult and rng.random() < 0.7 else "",
                    birth_year=year,
                )
                index = len(residents)
                residents.append(resident)
                members.append((resident, role))
                age = this_year - year
                if age >= 65:
                    tags.append((index, ResidentTag.ELDERLY))
                    if size == 1:
                        tags.append((index, ResidentTag.LIVING_ALONE))
                if age < 14:
                    tags.append((index, ResidentTag.CHILDREN))
                if i == 0 and rng.random() < 0.12:
                    tags.append((index, ResidentTag.PETS))
                if rng.random() < 0.015:
                    tags.append((index, ResidentTag.DISABILITY))
            households.append((room, members))
        # One UPDATE … WHERE id IN (…) per status and chunk: bulk_update() would build a CASE
        # expression per room, which costs more than all the inserts together.
        by_status: dict[str, list[int]] = {}
        for room, _ in households:
            by_status.setdefault(room.status, []).append(room.pk)
        for status, ids in by_status.items():
            for i in range(0, len(ids), 5000):
                Room.objects.filter(pk__in=ids[i : i + 5000]).update(status=status)
        Resident.objects.bulk_create(residents, batch_size=5000)
        if residents and residents[0].pk is None:  # backends without RETURNING
            by_mobile = dict(
                Resident.objects.filter(community__in=communities).values_list("mobile", "id")
            )
            for r in residents:
                r.pk = r.id = by_mobile[r.mobile]
        ResidentTagging.objects.bulk_create(
            (ResidentTagging(resident_id=residents[i].pk, tag=t) for i, t in tags),
            batch_size=5000,
        )
        start = date.today() - timedelta(days=365 * 12)
        HouseholdMember.objects.bulk_create(
            (
                HouseholdMember(
                    room=room,
                    resident=resident,
                    role=role,
                    moved_in=start + timedelta(days=rng.randint(0, 365 * 11)),
                )
                for room, members in households
                for resident, role in members
            ),
            batch_size=5000,
        )
        return len(residents)

    def _user(self, username: str, role: str, name: str, mobile: str):
        User = get_user_model()
        return User(
            username=username, password=self.password, role=role, display_name=name, mobile=mobile
        )

    def _staff(self, company, communities, departments, skills) -> list[Staff]:
        User = get_user_model()
        plan = []
        for community in communities:
            plan.append(
                (community, DepartmentKind.OPERATIONS, "项目经理", [], None, Role.COMMUNITY_MANAGER)
            )
            plan.append(
                (
                    community,
                    DepartmentKind.CUSTOMER_SERVICE,
                    "前台客服",
                    ["customer"],
                    None,
                    Role.FRONT_DESK,
                )
            )
            plan.append(
                (
                    community,
                    DepartmentKind.ENGINEERING,
                    "工程主管",
                    ["electrical", "plumbing"],
                    "低压电工作业证",
                    Role.SUPERVISOR,
                )
            )
            for kind, position, skill_codes, cert, count in STAFF_PLAN:
                for _ in range(count):
                    plan.append((community, kind, position, skill_codes, cert, Role.STAFF))
        hq = [
            (None, DepartmentKind.FINANCE, "财务经理", [], None, Role.SUPERVISOR),
            (None, DepartmentKind.OPERATIONS, "品质经理", [], None, Role.SUPERVISOR),
        ]
        plan = hq + plan
        prefix = f"s{company.pk}_"
        users, staff = [], []
        for i, (_community, kind, position, _skills, _cert, role) in enumerate(plan, start=1):
            name, mobile = self.name(), self.mobile()
            users.append(self._user(f"{prefix}{i:04d}", role, name, mobile))
            staff.append(
                Staff(
                    company=company,
                    name=name,
                    mobile=mobile,
                    employee_no=f"AJ{company.pk:02d}{i:04d}",
                    department=departments[kind],
                    position=position,
                    hired_on=date.today() - timedelta(days=self.rng.randint(30, 3650)),
                )
            )
        User.objects.bulk_create(users, batch_size=2000)
        if users[0].pk is None:
            ids = dict(
                User.objects.filter(username__startswith=prefix).values_list("username", "id")
            )
            for u in users:
                u.pk = u.id = ids[u.username]
        for user, member in zip(users, staff, strict=True):
            member.user = user
        Staff.objects.bulk_create(staff, batch_size=2000)
        if staff[0].pk is None:
            ids = dict(Staff.objects.filter(company=company).values_list("user_id", "id"))
            for member in staff:
                member.pk = member.id = ids[member.user_id]
        through_c = Staff.communities.through
        through_s = Staff.skills.through
        links_c, links_s, certs = [], [], []
        for member, (community, _kind, _pos, skill_codes, cert, _role) in zip(
            staff, plan, strict=True
        ):
            for c in [community] if community else []:
                links_c.append(through_c(staff_id=member.pk, community_id=c.pk))
            for code in skill_codes:
                links_s.append(through_s(staff_id=member.pk, skill_id=skills[code].pk))
            if cert:
                certs.append(
                    Certificate(
                        staff=member,
                        name=cert,
                        number=f"T{self.rng.randrange(10**10):010d}",
                        valid_until=date.today() + timedelta(days=self.rng.randint(-30, 1500)),
                    )
                )
        through_c.objects.bulk_create(links_c, batch_size=5000)
        through_s.objects.bulk_create(links_s, batch_size=5000)
        Certificate.objects.bulk_create(certs, batch_size=5000)
        return staff

    def _demo_logins(self, company, communities, departments, skills) -> list[dict]:
        """Named logins for the demo: printed by ``anju demo``."""
        User = get_user_model()
        if User.objects.filter(username="admin").exists():
            return []
        a, b = communities[0], communities[1 % len(communities)]
        logins = []

        def staff_login(username, role, name, kind, position, community_list, skill_codes=()):
            mobile = self.mobile()
            user = self._user(username, role, name, mobile)
            user.save()
            member = Staff.objects.create(
                company=company,
                user=user,
                name=name,
                mobile=mobile,
                department=departments[kind],
                position=position,
                employee_no=f"AJ{username.upper()}",
            )
            member.communities.set(community_list)
            member.skills.set([skills[c] for c in skill_codes])
            logins.append(
                {
                    "role": user.get_role_display(),
                    "username": username,
                    "scope": "、".join(c.name for c in community_list) or "全部小区",
                }
            )
            return member

        staff_login("admin", Role.COMPANY_ADMIN, "赵总部", DepartmentKind.OPERATIONS, "总经理", [])
        staff_login(
            "manager", Role.COMMUNITY_MANAGER, "钱经理", DepartmentKind.OPERATIONS, "项目经理", [a]
        )
        staff_login(
            "tech",
            Role.STAFF,
            "王师傅",
            DepartmentKind.ENGINEERING,
            "维修工",
            [a],
            ["plumbing", "electrical"],
        )
        staff_login(
            "frontdesk", Role.FRONT_DESK, "孙前台", DepartmentKind.CUSTOMER_SERVICE, "前台客服", [a]
        )
        if b.pk != a.pk:
            staff_login("staffb", Role.STAFF, "周保安", DepartmentKind.SECURITY, "秩序维护员", [b])

        occupied = list(
            HouseholdMember.objects.filter(
                room__community=a, role=HouseholdRole.OWNER, moved_out__isnull=True
            )
            .select_related("resident", "room__building", "room__unit")
            .order_by(
                "room__building__sort_order",
                "room__unit__sort_order",
                "room__floor",
                "room__number",
            )[:2]
        )
        for username, member in zip(["resident", "resident2"], occupied, strict=False):
            resident = member.resident
            user = self._user(username, Role.RESIDENT, resident.name, resident.mobile)
            user.save()
            resident.user = user
            resident.save(update_fields=["user"])
            logins.append(
                {
                    "role": user.get_role_display(),
                    "username": username,
                    "scope": f"{a.name} {member.room.label}",
                }
            )
        observer = self._user("observer", Role.RESIDENTS_COMMITTEE, "吴主任", self.mobile())
        observer.save()
        CommitteeSeat.objects.create(
            community=a, user=observer, kind="residents", title="居委会主任"
        )
        logins.append(
            {"role": observer.get_role_display(), "username": "observer", "scope": a.name}
        )
        return logins
