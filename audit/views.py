"""The audit log page for managers and admins."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import MANAGING_ROLES, role_required
from accounts.selectors import audit_people_choices
from audit.forms import AuditForm
from audit.selectors import audit_entries
from vipsupport.zones import current_zone

PAGE_SIZE = 50


@role_required(*MANAGING_ROLES)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who changed what in the admin and the assignments, newest first, filtered."""
    form = AuditForm(request.GET, zone=current_zone())
    context: dict[str, object] = {"form": form, "who_choices": audit_people_choices()}
    if not form.is_valid():
        return render(request, "audit/log.html", context, status=400)
    entries, next_cursor = audit_entries(
        filters=form.filters(), after=form.cleaned_data["after"], limit=PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("after", None)
    first_query = query.urlencode()
    if next_cursor is not None:
        query["after"] = next_cursor.token
    return render(
        request,
        "audit/log.html",
        {
            **context,
            "entries": entries,
            "older_query": query.urlencode() if next_cursor is not None else None,
            "first_query": first_query if form.cleaned_data["after"] else None,
        },
    )
