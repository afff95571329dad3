"""Files on tickets: which ones are accepted, and how they are stored."""

from __future__ import annotations

import codecs
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from tickets.models import Attachment, Ticket, TicketMessage


class _FileRow(Protocol):
    file: Any

    def save(self, *args: Any, **kwargs: Any) -> None: ...


StoredFileRow = TypeVar("StoredFileRow", bound=_FileRow)

MAX_FILES_PER_MESSAGE = 5
MEGABYTE = 1024 * 1024
MAX_FILE_BYTES = 10 * MEGABYTE
MAX_NAME_LENGTH = 255
# Enough for every signature below, and for judging whether a file is text.
SNIFF_BYTES = 8 * 1024

TOO_MANY_FILES = ngettext_lazy(
    "A message can have at most %(max)d attachment.",
    "A message can have at most %(max)d attachments.",
    "max",
)
FILE_TOO_LARGE = _("“%(name)s” is too large (%(size)s). Files can be at most %(limit)d MB.")
FILE_EMPTY = _("“%(name)s” is empty.")
TYPE_NOT_ALLOWED = _(
    "“%(name)s” is not a type of file we accept. Attach images (PNG, JPEG, GIF, WebP), PDF, "
    "Word, Excel or PowerPoint documents, ZIP archives or text files (TXT, CSV, LOG, JSON)."
)


@dataclass(frozen=True)
class FileType:
    """An accepted type; the first extension is the one a name gets when it has none of them."""

    content_type: str
    extensions: tuple[str, ...]


PNG = FileType("image/png", (".png",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"))
GIF = FileType("image/gif", (".gif",))
WEBP = FileType("image/webp", (".webp",))
PDF = FileType("application/pdf", (".pdf",))
ZIP = FileType("application/zip", (".zip",))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
)
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)
)
TEXT = FileType("text/plain", (".txt", ".log"))
CSV = FileType("text/csv", (".csv",))
JSON = FileType("application/json", (".json",))

# Office files are ZIP archives; only the name tells a document from any other archive.
OFFICE_TYPES = (DOCX, XLSX, PPTX)
# Text has no signature, so it is the one kind recognised by its name (and then checked).
TEXT_TYPES = (TEXT, CSV, JSON)
ALLOWED_TYPES = (PNG, JPEG, GIF, WEBP, PDF, ZIP, *OFFICE_TYPES, *TEXT_TYPES)

# A "text" file that opens like one of these is markup a browser could run, not plain text.
MARKUP_STARTS = (
    "<!doctype",
    "<html",
    "<head",
    "<body",
    "<script",
    "<iframe",
    "<svg",
    "<?xml",
    "<!--",
)


def file_type_sniff(*, head: bytes, name: str, size: int) -> FileType | None:
    """The accepted type the first bytes of a file show, or None; never trusts the browser."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    extension = os.path.splitext(name)[1].lower()
    if head.startswith(b"PK\x03\x04"):
        return next((kind for kind in OFFICE_TYPES if extension in kind.extensions), ZIP)
    text_type = next((kind for kind in TEXT_TYPES if extension in kind.extensions), None)
    if text_type is not None and _is_plain_text(head, complete=size <= len(head)):
        return text_type
    return None


def _is_plain_text(head: bytes, *, complete: bool) -> bool:
    if b"\x00" in head:
        return False
    try:
        # Not final unless this is the whole file: the cut may fall inside a character.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return not text.lstrip().lower().startswith(MARKUP_STARTS)


def attachment_clean_name(*, name: str | None, file_type: FileType | None = None) -> str:
    """The name to keep: no folders or control characters, with an extension that fits its type.

    Keeping a mismatched extension would let the downloader's system open a PNG as `run.bat`.
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if name in ("", ".", ".."):
        name = "attachment"
    stem, extension = os.path.splitext(name)
    if file_type is not None and extension.lower() not in file_type.extensions:
        stem, extension = name, file_type.extensions[0]
    return stem[: MAX_NAME_LENGTH - len(extension)] + extension


@dataclass(frozen=True)
class CheckedFile:
    name: str
    file_type: FileType
    size: int


def _file_size(file: UploadedFile) -> int:
    if file.size is not None:
        return file.size
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _file_check(*, file: UploadedFile) -> CheckedFile:
    """Refuse a file too large, empty or of a type not allowed; otherwise its shown name, type
    and size."""
    shown_name = attachment_clean_name(name=file.name)
    size = _file_size(file)
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            FILE_TOO_LARGE,
            code="file_too_large",
            params={
                "name": shown_name,
                "size": filesizeformat(size),
                "limit": MAX_FILE_BYTES // MEGABYTE,
            },
        )
    if size == 0:
        raise ValidationError(FILE_EMPTY, code="file_empty", params={"name": shown_name})
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    file_type = file_type_sniff(head=head, name=shown_name, size=size)
    if file_type is None:
        raise ValidationError(
            TYPE_NOT_ALLOWED, code="file_type_not_allowed", params={"name": shown_name}
        )
    return CheckedFile(
        name=attachment_clean_name(name=file.name, file_type=file_type),
        file_type=file_type,
        size=size,
    )


def _too_many_files() -> ValidationError:
    return ValidationError(
        TOO_MANY_FILES, code="too_many_files", params={"max": MAX_FILES_PER_MESSAGE}
    )


def files_check(*, files: Sequence[UploadedFile]) -> list[CheckedFile]:
    """Each file checked, or one error per file refused (and for too many files)."""
    errors: list[ValidationError] = []
    if len(files) > MAX_FILES_PER_MESSAGE:
        errors.append(_too_many_files())
    checked: list[CheckedFile] = []
    for file in files:
        try:
            checked.append(_file_check(file=file))
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return checked


def attachments_validate(*, files: Sequence[UploadedFile]) -> None:
    """Raise one error per file that is too large, empty or of a type not allowed, or too many."""
    files_check(files=files)


def attachments_add(
    *,
    files: Sequence[UploadedFile],
    message: TicketMessage | None = None,
    ticket: Ticket | None = None,
) -> list[Attachment]:
    """Check and store files on a message, or (with `ticket` alone) on a ticket's description;
    they are stamped with the moment of that message or ticket."""
    if not files:  # most messages: no savepoint, no query
        return []
    with transaction.atomic():
        return _attachments_store(files=files, message=message, ticket=ticket)


def _attachments_store(
    *,
    files: Sequence[UploadedFile],
    message: TicketMessage | None,
    ticket: Ticket | None,
) -> list[Attachment]:
    # The files belong to the write that carries them, so they share its moment.
    if message is not None:
        if ticket is not None and ticket.pk != message.ticket_id:
            raise ValueError("The message belongs to another ticket.")
        ticket_id, uploaded_at = message.ticket_id, message.created_at
    elif ticket is not None:
        ticket_id, uploaded_at = ticket.pk, ticket.created_at
    else:
        raise TypeError("attachments_add needs the message or, for the description, the ticket.")
    checked = files_check(files=files)
    if not checked:
        return []
    already = Attachment.objects.filter(ticket_id=ticket_id, message=message).count()
    if already + len(checked) > MAX_FILES_PER_MESSAGE:
        raise ValidationError([_too_many_files()])

    def row_for(found: CheckedFile) -> Attachment:
        attachment = Attachment(
            ticket_id=ticket_id,
            message=message,
            original_name=found.name,
            content_type=found.file_type.content_type,
            size=found.size,
            created_at=uploaded_at,
        )
        # The ticket and message are rows the caller just wrote or read: no query to prove them.
        attachment.full_clean(exclude=["file", "ticket", "message"])
        return attachment

    return checked_files_store(files=files, checked=checked, row_for=row_for)


def checked_files_store(
    *,
    files: Sequence[UploadedFile],
    checked: Sequence[CheckedFile],
    row_for: Callable[[CheckedFile], StoredFileRow],
) -> list[StoredFileRow]:
    """Save each checked upload into the `file` of a new row made by `row_for`, inside the
    caller's transaction; when anything fails, the files already written are deleted (their
    rows roll back with the transaction)."""
    stored: list[StoredFileRow] = []
    try:
        for file, found in zip(files, checked, strict=True):
            row = row_for(found)
            file.seek(0)
            # The storage path comes from the field's `upload_to`; the name given is not used.
            row.file.save(found.name, file, save=False)
            stored.append(row)
            row.save()
    except BaseException:
        for row in stored:
            row.file.delete(save=False)
        raise
    return stored


# What the file picker offers; only a hint, the content is what is checked.
ACCEPT = ",".join(extension for kind in ALLOWED_TYPES for extension in kind.extensions)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, checked together by `attachments_validate`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        # Empty files are refused by `attachments_validate`, whose message names the file.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = list(data) if isinstance(data, list | tuple) else [data]
        items = [item for item in items if item]
        if not items:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        files: list[UploadedFile] = []
        errors: list[ValidationError] = []
        for item in items:
            try:
                files.append(super().clean(item, initial))
            except ValidationError as error:
                errors.append(error)
        try:
            attachments_validate(files=files)
        except ValidationError as error:
            errors.append(error)
        if len(items) > MAX_FILES_PER_MESSAGE >= len(files):
            errors.insert(0, _too_many_files())
        if errors:
            raise ValidationError(errors)
        return files
