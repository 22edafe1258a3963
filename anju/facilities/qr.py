"""QR labels: the code on an equipment label opens its public page ``/e/<token>/``."""

from __future__ import annotations

import segno
from django.urls import reverse


def label_url(request, equipment) -> str:
    return request.build_absolute_uri(reverse("facilities:public", args=[equipment.qr_token]))


def qr_svg(url: str, *, scale: int = 6) -> str:
    """An inline SVG (no XML declaration, a viewBox instead of a fixed size, so CSS sizes it)
    of the URL, error correction level M."""
    return segno.make(url, error="m").svg_inline(scale=scale, border=2, omitsize=True)
