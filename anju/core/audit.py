"""Writing the audit log. Services call ``audit`` inside their transaction."""

from typing import Any

from django.db import models

from anju.core.models import AuditLog


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as ``{field: [old, new]}``."""
    return {
        key: [_plain(before.get(key)), _plain(value)]
        for key, value in after.items()
        if before.get(key) != value
    }


def audit(
    actor,
    action: str,
    target: models.Model | None = None,
    *,
    target_type: str = "",
    target_repr: str = "",
    company_id: int | None = None,
    community_id: int | None = None,
    changes: dict | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Append one entry to the audit log."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_repr = target_repr or str(target)[:200]
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type,
        target_id=str(target.pk) if target is not None and target.pk else "",
        target_repr=target_repr[:200],
        company_id=company_id,
        community_id=community_id,
        changes=changes or {},
        ip=ip,
    )
