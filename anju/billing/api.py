"""``/api/v1``: fees and bills. Residents read their household's bills; staff read their
communities' bills, record payments and run the monthly bills."""

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from anju.billing import selectors, services
from anju.billing.choices import Basis, BillStatus, FeeKind, PaymentMethod
from anju.core.api import request_scope
from anju.core.errors import Invalid
from anju.estates import selectors as estate_selectors

router = Router(tags=["billing"])


class BillOut(Schema):
    id: int
    community_id: int
    room_id: int
    room: str
    fee_item: str
    fee_kind: FeeKind
    period: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    due_date: date
    status: BillStatus
    paid_at: datetime | None

    @staticmethod
    def resolve_room(obj):
        return obj.room.label

    @staticmethod
    def resolve_fee_item(obj):
        return obj.fee_item.name

    @staticmethod
    def resolve_fee_kind(obj):
        return obj.fee_item.kind

    @staticmethod
    def resolve_period(obj):
        return f"{obj.period:%Y-%m}"


class BillFilter(Schema):
    community_id: int | None = None
    room_id: int | None = None
    status: str = Field("", pattern=r"^(|owing|unpaid|paid|overdue)$")
    period: str = Field("", pattern=r"^(|\d{4}-\d{2})$", description="YYYY-MM")
    kind: FeeKind | None = None


class SummaryOut(Schema):
    billed: Decimal
    paid: Decimal
    owing: Decimal
    owing_count: int
    overdue: Decimal
    overdue_count: int
    count: int
    rate: float | None


class PayIn(Schema):
    method: PaymentMethod
    reference: str = Field("", max_length=64)


class PaymentOut(Schema):
    id: int
    bill_id: int
    amount: Decimal
    method: PaymentMethod
    reference: str
    paid_at: datetime


class FeeItemOut(Schema):
    id: int
    community_id: int | None
    name: str
    kind: FeeKind
    basis: Basis
    unit_price: Decimal
    due_days: int
    in_bill_run: bool
    is_active: bool


class BillRunIn(Schema):
    community_id: int
    period: str = Field(..., pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class BillRunOut(Schema):
    created: int


def _month(text: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise Invalid(_("Give the month as YYYY-MM.")) from None


def _bills(request, filters: BillFilter):
    return selectors.bill_list(
        scope=request_scope(request),
        community=filters.community_id,
        room=filters.room_id,
        status=filters.status,
        period=_month(filters.period),
        kind=filters.kind or "",
    )


@router.get("/bills", response=list[BillOut])
@paginate(LimitOffsetPagination)
def list_bills(request, filters: Query[BillFilter]):
    """Bills in reach, newest month first (a resident: their household's)."""
    return _bills(request, filters)


@router.get("/bills/summary", response=SummaryOut)
def bills_summary(request, filters: Query[BillFilter]):
    """Totals of the bills in reach that match the filter: billed, paid, owing, overdue."""
    out = selectors.totals(_bills(request, filters))
    out["rate"] = float(out["rate"]) if out["rate"] is not None else None
    return out


@router.get("/bills/{bill_id}", response=BillOut)
def get_bill(request, bill_id: int):
    return selectors.bill_get(scope=request_scope(request), pk=bill_id)


@router.post("/bills/{bill_id}/pay", response={201: PaymentOut})
def pay_bill(request, bill_id: int, payload: PayIn):
    """Record that the bill was paid in full (409 if it is paid already)."""
    scope = request_scope(request)
    bill = selectors.bill_get(scope=scope, pk=bill_id)
    return Status(
        201,
        services.bill_mark_paid(
            scope=scope, bill=bill, method=payload.method, reference=payload.reference
        ),
    )


@router.get("/fee-items", response=list[FeeItemOut])
def list_fee_items(request):
    return list(selectors.fee_item_list(scope=request_scope(request)))


@router.post("/bill-runs", response={201: BillRunOut})
def run_bills(request, payload: BillRunIn):
    """Make a community's bills of a month for every occupied room (existing ones are kept)."""
    scope = request_scope(request)
    community = estate_selectors.community_get(scope=scope, pk=payload.community_id)
    created = services.bill_run(scope=scope, community=community, period=_month(payload.period))
    return Status(201, {"created": created})
