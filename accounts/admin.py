"""The admin for accounts; every rule-bearing write goes through accounts.services."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.forms import AssignAgentsForm, ChangePlanForm
from accounts.models import (
    AddOn,
    AddOnSubscription,
    AgentProfile,
    AssignmentRole,
    Company,
    CompanyPhoneNumber,
    DedicatedAssignment,
    Plan,
    PlanSubscription,
    User,
)
from accounts.selectors import assignment_change_message


class HistoryAdmin:
    """Rows written only by services (history, audit, engine output): shown, never edited."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(HistoryAdmin, admin.TabularInline[Any, Any]):
    """History rows: shown on the parent, written only by services."""

    extra = 0
    can_delete = False


class PlanSubscriptionInline(ReadOnlyInline):
    model = PlanSubscription
    fields = readonly_fields = ("plan", "started_on", "ended_on")


class AddOnSubscriptionInline(ReadOnlyInline):
    """Shown on the company; added and ended on the add-on subscription pages (services)."""

    model = AddOnSubscription
    fields = readonly_fields = ("addon", "monthly_price", "currency", "starts_on", "ends_on")


class DedicatedAssignmentInline(ReadOnlyInline):
    model = DedicatedAssignment
    fields = readonly_fields = ("role", "agent", "valid_from", "valid_to", "assigned_by")
    verbose_name_plural = _("dedicated assignment history")


class CompanyPhoneNumberInline(admin.TabularInline[CompanyPhoneNumber, Company]):
    """Numbers the company's people call from that are nobody's own (switchboards, shared lines):
    a call from one is the company's."""

    model = CompanyPhoneNumber
    fields = ("number", "label", "created_at")
    readonly_fields = ("created_at",)
    extra = 0


CompanyAction = Callable[[admin.ModelAdmin[Company], HttpRequest, Company, dict[str, Any]], None]


def action_with_form(
    form_class: type[forms.Form], title: str, apply: CompanyAction
) -> Callable[[admin.ModelAdmin[Company], HttpRequest, QuerySet[Company]], HttpResponse | None]:
    """An admin action that asks for a form on an intermediate page, then applies it per company
    (`apply` writes through a service and leaves the admin's log entry)."""

    def action(
        modeladmin: admin.ModelAdmin[Company], request: HttpRequest, queryset: QuerySet[Company]
    ) -> HttpResponse | None:
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for company in queryset:
                try:
                    apply(modeladmin, request, company, form.cleaned_data)
                except ValidationError as error:
                    modeladmin.message_user(
                        request, f"{company}: {' '.join(error.messages)}", messages.ERROR
                    )
                else:
                    modeladmin.message_user(request, _("%s: done.") % company, messages.SUCCESS)
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": request.POST["action"],
            "opts": modeladmin.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/company/action_form.html", context)

    return action


@transaction.atomic
def _assign(
    modeladmin: admin.ModelAdmin[Company],
    request: HttpRequest,
    company: Company,
    data: dict[str, Any],
) -> None:
    """Assign through the service and log each role that changed, in one transaction."""
    # Locked first, so "before" is what the service replaces, even with another admin at work.
    Company.objects.select_for_update().get(pk=company.pk)
    before = _current_assignments(company)
    services.company_assign_agents(
        company=company,
        dedicated=data["dedicated"],
        backup=data["backup"],
        assigned_by=request.user,  # type: ignore[arg-type]
    )
    after = _current_assignments(company)
    for role in AssignmentRole:
        old, new = before.get(role), after.get(role)
        # Logged on the row the change made (or, when a role was emptied, the row it closed).
        row = new or old
        if old == new or row is None:
            continue
        LogEntry.objects.log_actions(
            user_id=request.user.pk,  # type: ignore[arg-type]  # the admin admits signed-in staff only
            queryset=[row],
            action_flag=CHANGE,
            change_message=assignment_change_message(
                role=role, old=old.agent if old else None, new=new.agent if new else None
            ),
        )


def _current_assignments(company: Company) -> dict[str, DedicatedAssignment]:
    rows = DedicatedAssignment.objects.filter(company=company).current().select_related("agent")
    return {row.role: row for row in rows}


@transaction.atomic
def _change_plan(
    modeladmin: admin.ModelAdmin[Company],
    request: HttpRequest,
    company: Company,
    data: dict[str, Any],
) -> None:
    """Change the plan through the service and log "Plan: old → new from <day>" on the company."""
    Company.objects.select_for_update().get(pk=company.pk)
    old = company.plan_subscriptions.filter(ended_on__isnull=True).select_related("plan").first()
    new = services.company_change_plan(company=company, plan=data["plan"], on=data["on"])
    if old is None or new.pk != old.pk:
        message = _("Plan: %(old)s → %(new)s from %(day)s") % {
            "old": old.plan if old else "—",
            "new": new.plan,
            "day": new.started_on.isoformat(),
        }
        modeladmin.log_change(request, company, message)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin[Company]):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    inlines = [
        PlanSubscriptionInline,
        AddOnSubscriptionInline,
        DedicatedAssignmentInline,
        CompanyPhoneNumberInline,
    ]
    actions = ["assign_agents", "change_plan"]

    @admin.action(description=_("Assign dedicated agent…"))
    def assign_agents(
        self, request: HttpRequest, queryset: QuerySet[Company]
    ) -> HttpResponse | None:
        return action_with_form(AssignAgentsForm, str(_("Assign dedicated agent")), _assign)(
            self, request, queryset
        )

    @admin.action(description=_("Change plan…"))
    def change_plan(self, request: HttpRequest, queryset: QuerySet[Company]) -> HttpResponse | None:
        return action_with_form(ChangePlanForm, str(_("Change plan")), _change_plan)(
            self, request, queryset
        )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "company", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "company"]
    search_fields = ["email", "first_name", "last_name", "company__name", "phone_number"]
    autocomplete_fields = ["company"]
    list_select_related = ["company"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Personal info"),
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "company",
                    "phone_number",
                    "preferred_language",
                    "time_zone",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "company", "password1", "password2"),
            },
        ),
    )


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin[AgentProfile]):
    list_display = ["user", "tier", "phone_number", "away_until"]
    list_filter = ["tier"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "phone_number"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin[Plan]):
    list_display = ["name", "code", "monthly_price", "currency", "rank"]
    search_fields = ["name", "code"]
    filter_horizontal = ["addons"]


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin[AddOn]):
    list_display = ["name", "code", "monthly_price", "currency"]
    search_fields = ["name", "code"]


@admin.register(PlanSubscription)
class PlanSubscriptionAdmin(HistoryAdmin, admin.ModelAdmin[PlanSubscription]):
    """Plan history; plans are changed with the company action, which keeps the add-on rule."""

    list_display = ["company", "plan", "started_on", "ended_on"]
    list_filter = ["plan", "ended_on"]
    search_fields = ["company__name"]
    autocomplete_fields = ["company"]
    list_select_related = ["company", "plan"]


@admin.register(AddOnSubscription)
class AddOnSubscriptionAdmin(admin.ModelAdmin[AddOnSubscription]):
    """Add-ons are subscribed and ended through the services, so their rules hold here too:
    the price is the add-on's, and ending the dedicated agent closes the company's assignments.
    """

    list_display = ["company", "addon", "monthly_price", "currency", "starts_on", "ends_on"]
    list_filter = ["addon", "ends_on"]
    search_fields = ["company__name"]
    autocomplete_fields = ["company"]
    list_select_related = ["company", "addon"]

    def get_fields(self, request: HttpRequest, obj: AddOnSubscription | None = None) -> Any:
        if obj is None:
            return ["company", "addon", "starts_on"]
        return ["company", "addon", "monthly_price", "currency", "starts_on", "ends_on"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        readonly = ["company", "addon", "monthly_price", "currency", "starts_on"]
        # An ended add-on stays ended: a new period is a new subscription.
        return [*readonly, "ends_on"] if obj.ends_on is not None else readonly

    def get_form(
        self,
        request: HttpRequest,
        obj: AddOnSubscription | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "ends_on" in form.base_fields:
            form.base_fields["ends_on"].required = True
        return form

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: AddOnSubscription, form: Any, change: bool
    ) -> None:
        if change:
            services.addon_end(
                subscription=obj,
                ends_on=form.cleaned_data["ends_on"],
                ended_by=request.user,  # type: ignore[arg-type]
            )
            return
        created = services.addon_subscribe(
            company=obj.company, addon=obj.addon, starts_on=obj.starts_on
        )
        obj.pk = created.pk
        obj.refresh_from_db()


@admin.register(DedicatedAssignment)
class DedicatedAssignmentAdmin(HistoryAdmin, admin.ModelAdmin[DedicatedAssignment]):
    """Assignment history; new assignments are made with the company action."""

    list_display = ["company", "role", "agent", "valid_from", "valid_to", "assigned_by"]
    list_filter = ["role", "valid_to"]
    search_fields = ["company__name", "agent__email", "agent__last_name"]
    list_select_related = ["company", "agent", "assigned_by"]
