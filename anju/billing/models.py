"""Fee items, bills and payments of a household (物业费, 账单, 缴费)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from anju.billing.choices import Basis, BillStatus, FeeKind, PaymentMethod
from anju.core.models import TimeStampedModel


class FeeItem(TimeStampedModel):
    """Something a household is charged for (收费项目): the property fee by floor area, a
    parking space at a fixed monthly price, water or electricity passed through by the units
    used. A fee item of the whole company applies to every community unless a community has
    its own of the same name."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="fee_items"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fee_items",
        verbose_name=_("community"),
        help_text=_("Empty: every community of the company."),
    )
    name = models.CharField(_("name"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=FeeKind.choices)
    basis = models.CharField(_("charged by"), max_length=16, choices=Basis.choices)
    unit_price = models.DecimalField(
        _("unit price (¥)"),
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )
    due_days = models.PositiveSmallIntegerField(
        _("due after (days)"),
        default=30,
        help_text=_("Days after the first day of the billed month."),
    )
    in_bill_run = models.BooleanField(
        _("in the monthly bill run"),
        default=True,
        help_text=_("Billed to every occupied room each month (area or fixed items)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("fee item")
        verbose_name_plural = _("fee items")
        ordering = ["company_id", "community_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "community", "name"], name="fee_item_unique_name"
            ),
            models.UniqueConstraint(
                fields=["company", "name"],
                condition=Q(community__isnull=True),
                name="fee_item_unique_company_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Bill(models.Model):
    """What one room owes for one fee item and one month (账单). ``amount`` is fixed when the
    bill is made: a later price change never alters a bill already sent."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("community"),
    )
    room = models.ForeignKey(
        "estates.Room", on_delete=models.PROTECT, related_name="bills", verbose_name=_("room")
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="bills", verbose_name=_("fee item")
    )
    period = models.DateField(_("month"), help_text=_("The first day of the billed month."))
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit_price = models.DecimalField(_("unit price (¥)"), max_digits=10, decimal_places=4)
    amount = models.DecimalField(
        _("amount (¥)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=16, choices=BillStatus.choices, default=BillStatus.UNPAID
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-period", "room_id", "fee_item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "fee_item", "period"], name="bill_unique_room_item_period"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "-period", "status"]),
            models.Index(fields=["room", "-period"]),
            models.Index(fields=["status", "due_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.fee_item} {self.period:%Y-%m}"

    @property
    def is_owing(self) -> bool:
        return self.status != BillStatus.PAID


class Payment(models.Model):
    """A payment of one bill, as the office recorded it (缴费记录)."""

    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="payments", verbose_name=_("bill")
    )
    amount = models.DecimalField(_("amount (¥)"), max_digits=10, decimal_places=2)
    method = models.CharField(_("paid by"), max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    paid_at = models.DateTimeField(_("paid at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bill} ¥{self.amount}"
