"""Attachment downloads: the only way to a stored file, checked against the viewer."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.models import User
from tickets.selectors import attachments_visible_to

logger = logging.getLogger(__name__)


@require_safe
@never_cache
@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    """Staff get any file; a customer only their company's, and never one on an internal note."""
    user = request.user
    assert isinstance(user, User)  # login_required let only users through
    attachment = get_object_or_404(attachments_visible_to(user=user), pk=pk)
    try:
        stored = attachment.file.open("rb")
    except FileNotFoundError:
        logger.error("Attachment %s has no file in storage.", attachment.pk)
        raise Http404 from None
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should the file ever be shown inline anyway, it may not run anything.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
