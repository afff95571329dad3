"""Attachment downloads: the only way to a stored file, checked against the viewer."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts.models import User
from tickets.selectors import attachments_visible_to
from vipsupport.downloads import stored_file_download
from vipsupport.logs import log_ticket


@require_safe
@never_cache
@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    """Staff get any file; a customer only their company's, and never one on an internal note."""
    user = request.user
    assert isinstance(user, User)  # login_required let only users through
    attachment = get_object_or_404(attachments_visible_to(user=user), pk=pk)
    log_ticket(attachment.ticket_id)
    return stored_file_download(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        what=f"Attachment {attachment.pk}",
    )
