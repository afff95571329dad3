from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import STAFF_ROLES, role_required


@role_required(*STAFF_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    """The agent queue; the SLA-ordered list arrives with the workspace issue."""
    return render(request, "tickets/queue.html")
