"""Evidence uploads: photos go through the service desk's photo check (real images, re-encoded
without metadata); documents must be PDF or Office Open XML (docx, xlsx, pptx), recognised by
their content, not their name. Everything is checked before anything is stored."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from anju.core.errors import Invalid
from anju.quality.choices import FileKind
from anju.servicedesk.photos import prepare_photos

MAX_FILES = 9
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
OOXML = {
    "word/": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xl/": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ppt/": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg"}


@dataclass
class Prepared:
    content: ContentFile
    original_name: str
    kind: str
    content_type: str


def _document(upload) -> Prepared:
    name = (getattr(upload, "name", "") or "document")[:200]
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_DOCUMENT_BYTES:
        raise Invalid(
            _("%(name)s is larger than 10 MB.") % {"name": name},
            errors={"files": _("File too large.")},
        )
    data = upload.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Invalid(
            _("%(name)s is larger than 10 MB.") % {"name": name},
            errors={"files": _("File too large.")},
        )
    if data.startswith(b"%PDF-"):
        ext, content_type = "pdf", "application/pdf"
    elif data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError):
            names = []
        kind = next(
            (v for prefix, v in OOXML.items() if any(n.startswith(prefix) for n in names)), None
        )
        if "[Content_Types].xml" not in names or kind is None:
            raise Invalid(
                _("%(name)s is not a PDF, Word, Excel or PowerPoint file.") % {"name": name},
                errors={"files": _("Unsupported file.")},
            )
        ext, content_type = kind
    else:
        raise Invalid(
            _("%(name)s is not a PDF, Word, Excel or PowerPoint file.") % {"name": name},
            errors={"files": _("Unsupported file.")},
        )
    stored = f"{uuid.uuid4().hex}.{ext}"
    return Prepared(ContentFile(data, name=stored), name, FileKind.DOCUMENT, content_type)


def prepare_files(uploads) -> list[Prepared]:
    """Photos and documents, validated; raises ``Invalid`` naming the bad file."""
    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > MAX_FILES:
        raise Invalid(
            _("At most %(n)d files at once.") % {"n": MAX_FILES},
            errors={"files": _("Too many files.")},
        )
    out = []
    for upload in uploads:
        head = upload.read(8)
        upload.seek(0)
        if head.startswith(b"%PDF-") or head.startswith(b"PK\x03\x04"):
            out.append(_document(upload))
            continue
        photo = prepare_photos([upload])[0]
        ext = "." + photo.content.name.rsplit(".", 1)[-1]
        out.append(Prepared(photo.content, photo.original_name, FileKind.PHOTO, IMAGE_TYPES[ext]))
    return out
