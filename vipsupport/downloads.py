"""Stored files handed to the browser: a download (or, for a player, inline content) that can
run nothing."""

from __future__ import annotations

import logging

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

logger = logging.getLogger(__name__)


def stored_file_download(
    stored: FieldFile, *, filename: str, content_type: str, what: str, inline: bool = False
) -> FileResponse:
    """`stored` as an attachment named `filename` (or `inline`, for the page's own player); 404
    (and an error in the log, naming `what`) when storage has lost it."""
    try:
        opened = stored.open("rb")
    except FileNotFoundError:
        logger.error("%s has no file in storage.", what)
        raise Http404 from None
    response = FileResponse(
        opened, as_attachment=not inline, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should the file ever be shown inline anyway, it may not run anything.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
