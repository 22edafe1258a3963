"""Choices of fees and bills: what a fee item charges for, how its amount is reckoned, a bill's
status with its badge colour, and how a payment was made."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeeKind(models.TextChoices):
    PROPERTY = "property", _("Property management fee")
    PARKING = "parking", _("Parking fee")
    WATER = "water", _("Water")
    ELECTRICITY = "electricity", _("Electricity")
    OTHER = "other", _("Other")


class Basis(models.TextChoices):
    """How a bill's amount is reckoned from the fee item's unit price."""

    AREA = "area", _("Floor area × price per m² per month")
    FIXED = "fixed", _("Fixed amount per month")
    METERED = "metered", _("Units used × price per unit")


class BillStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")


BILL_STATUS_COLOURS = {"unpaid": "yellow", "paid": "green", "overdue": "red"}
OWING = (BillStatus.UNPAID, BillStatus.OVERDUE)


class PaymentMethod(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    BANK = "bank", _("Bank transfer")
    CARD = "card", _("Bank card at the office")
    CASH = "cash", _("Cash")
