"""Masking of personal data in lists (PIPL): 138****5678, 1101**********1234."""


def mask_mobile(value: str | None) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_name(value: str | None) -> str:
    """张三丰 → 张**; used where even the name should not be read in full."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
