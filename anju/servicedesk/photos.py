"""Photo uploads: checked to be real images, re-encoded (which drops EXIF/GPS metadata) and
scaled to at most 2560 px, all before anything is stored."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from anju.core.errors import Invalid

MAX_PHOTOS = 9
MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 2560
MAX_PIXELS = 40_000_000  # refuse decompression bombs
ALLOWED = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


@dataclass
class Photo:
    content: ContentFile
    original_name: str
    width: int
    height: int


def prepare_photos(uploads) -> list[Photo]:
    """Validate and re-encode uploaded images; raises ``Invalid`` naming the bad file."""
    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > MAX_PHOTOS:
        raise Invalid(
            _("At most %(n)d photos per step.") % {"n": MAX_PHOTOS},
            errors={"photos": _("Too many photos.")},
        )
    photos = []
    for upload in uploads:
        name = (getattr(upload, "name", "") or "photo")[:200]
        size = getattr(upload, "size", None)
        if size is not None and size > MAX_BYTES:
            raise Invalid(
                _("%(name)s is larger than 5 MB.") % {"name": name},
                errors={"photos": _("File too large.")},
            )
        data = upload.read()
        if len(data) > MAX_BYTES:
            raise Invalid(
                _("%(name)s is larger than 5 MB.") % {"name": name},
                errors={"photos": _("File too large.")},
            )
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                if probe.width * probe.height > MAX_PIXELS:
                    raise Invalid(_("%(name)s has too many pixels.") % {"name": name})
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image = ImageOps.exif_transpose(image)
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                if image.mode in ("RGBA", "LA", "P") and kind in {"PNG", "GIF", "WEBP"}:
                    image.save(out, format="PNG", optimize=True)
                    ext = "png"
                else:
                    image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
                    ext = "jpg"
                width, height = image.size
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ):
            raise Invalid(
                _("%(name)s is not an image (JPEG, PNG, WebP or GIF).") % {"name": name},
                errors={"photos": _("Not an image.")},
            ) from None
        if kind not in ALLOWED:
            raise Invalid(
                _("%(name)s is not an image (JPEG, PNG, WebP or GIF).") % {"name": name},
                errors={"photos": _("Not an image.")},
            )
        # Media is served by path: a random name keeps one household's photos from being
        # guessed by another.
        stored = f"{uuid.uuid4().hex}.{ext}"
        photos.append(Photo(ContentFile(out.getvalue(), name=stored), name, width, height))
    return photos
