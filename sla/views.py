from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import role_required


@role_required(Role.MANAGER, Role.ADMIN)
def reports(request: HttpRequest) -> HttpResponse:
    """The managers' landing page; the SLA reports arrive with the reports issue."""
    return render(request, "sla/reports.html")
