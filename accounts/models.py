"""Who is who: users, customer companies, plans, the dedicated-agent add-on and assignments."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from desk.defaults import DESK_ZONE
from desk.models import validate_time_zone

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


def default_time_zone() -> str:
    """A new user's zone until they choose one: a new installation's desk zone."""
    return DESK_ZONE


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    BULGARIAN = "bg", _("Bulgarian")


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    SENIOR = "senior", _("Senior agent (tier 2)")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


# Django groups that carry the staff roles; a data migration creates them with their permissions.
MANAGERS_GROUP = "Managers"
ADMINISTRATORS_GROUP = "Administrators"


class Company(models.Model):
    """A customer organisation; its users see only its own data."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    mail_alias = models.SlugField(
        _("mail alias"),
        max_length=64,
        unique=True,
        help_text=_(
            "Names the company's dedicated support address (acme → acme@vip.support.example)."
        ),
    )
    mail_severity = models.PositiveSmallIntegerField(
        _("severity of mailed tickets"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Tickets opened by mail to the general address start at this severity."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    if TYPE_CHECKING:
        members: RelatedManager[User]
        plan_subscriptions: RelatedManager[PlanSubscription]
        addon_subscriptions: RelatedManager[AddOnSubscription]
        assignments: RelatedManager[DedicatedAssignment]
        phone_numbers: RelatedManager[CompanyPhoneNumber]

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class CompanyPhoneNumber(models.Model):
    """A number the company's people call from that is nobody's own: a switchboard, a shared line.

    A call from it is the company's even when no user has the number in their profile.
    """

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="phone_numbers"
    )
    number = PhoneNumberField(_("number"), unique=True)
    label = models.CharField(
        _("label"), max_length=100, blank=True, help_text=_("What the line is, e.g. Switchboard.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["company", "number"]
        verbose_name = _("company phone number")
        verbose_name_plural = _("company phone numbers")

    def __str__(self) -> str:
        number = self.number
        text = number.as_international if number and number.is_valid() else str(number or "")
        return f"{text} ({self.label})" if self.label else text


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if fields["is_staff"] is not True or fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **fields)

    def _create_user(self, email: str, password: str | None, **fields: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user


def normalize_email(email: str) -> str:
    """E-mail is the login, so compare it case-insensitively by storing it lower-cased."""
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in: a customer (member of one company) or a member of staff."""

    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        help_text=_("Customers belong to exactly one company; staff to none."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    phone_number = PhoneNumberField(
        _("phone number"),
        blank=True,
        db_index=True,  # the phone channel finds callers by it
        help_text=_("The number this person calls from and wants to be called back on."),
    )
    is_staff = models.BooleanField(
        _("may use the admin site"),
        default=False,
        help_text=_("Lets the user log into the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    if TYPE_CHECKING:
        agent_profile: AgentProfile

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        if self.company_id is not None and self.has_agent_profile:
            raise ValidationError(
                {
                    "company": _(
                        "A member of staff with an agent profile cannot belong to a company."
                    )
                }
            )

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def initials(self) -> str:
        parts = [self.first_name, self.last_name] if self.first_name else [self.email]
        return "".join(part[0] for part in parts if part).upper()

    @property
    def has_agent_profile(self) -> bool:
        return hasattr(self, "agent_profile")

    @cached_property
    def role(self) -> Role | None:
        """The role that decides navigation and landing page; None for an account with no role."""
        if not self.is_authenticated:
            return None
        group_names = {group.name for group in self.groups.all()}
        if self.is_superuser or ADMINISTRATORS_GROUP in group_names:
            return Role.ADMIN
        if MANAGERS_GROUP in group_names:
            return Role.MANAGER
        if self.has_agent_profile:
            return Role.SENIOR if self.agent_profile.tier == Tier.SENIOR else Role.AGENT
        if self.company_id is not None:
            return Role.CUSTOMER
        return None


class Tier(models.IntegerChoices):
    AGENT = 1, _("Tier 1 agent")
    SENIOR = 2, _("Tier 2 senior engineer")


class AgentProfile(models.Model):
    """A support agent: their tier, and whether they are away right now."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="agent_profile"
    )
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.AGENT)
    away_until = models.DateTimeField(
        _("away until"),
        null=True,
        blank=True,
        help_text=_("While set and in the future, the backup agent stands in for this agent."),
    )
    phone_number = PhoneNumberField(
        _("phone for support calls"),
        blank=True,
        help_text=_("The number the support line forwards calls to."),
    )

    class Meta:
        ordering = ["user__email"]
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_tier_display()})"

    def clean(self) -> None:
        super().clean()
        if self.user_id is not None and self.user.company_id is not None:
            raise ValidationError(
                {"user": _("Customers cannot be agents; pick a member of staff.")}
            )

    def is_away(self, at: datetime.datetime) -> bool:
        return self.away_until is not None and self.away_until > at


class AddOn(models.Model):
    """An optional paid extra, with its stored monthly price."""

    DEDICATED_AGENT = "dedicated-agent"

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    monthly_price = models.DecimalField(_("monthly price"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    class Meta:
        ordering = ["name"]
        verbose_name = _("add-on")
        verbose_name_plural = _("add-ons")

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    """A subscription plan; the add-ons it offers decide who may buy them."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    monthly_price = models.DecimalField(_("monthly price"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    rank = models.PositiveSmallIntegerField(
        _("rank"), default=0, help_text=_("Higher is a richer plan; used for ordering.")
    )
    addons = models.ManyToManyField(
        AddOn,
        verbose_name=_("add-ons offered"),
        blank=True,
        related_name="plans",
        help_text=_("Only companies on a plan that offers an add-on may subscribe to it."),
    )

    class Meta:
        ordering = ["rank", "name"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name


class PlanSubscription(models.Model):
    """A company's plan over a period; the one without an end date is the current plan."""

    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="plan_subscriptions",
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    started_on = models.DateField(_("started on"), default=datetime.date.today)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["company", "-started_on"]
        verbose_name = _("plan subscription")
        verbose_name_plural = _("plan subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(ended_on__isnull=True),
                name="one_current_plan_per_company",
                violation_error_message=_(
                    "This company already has a current plan; change plans instead."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=models.F("started_on")),
                name="plan_subscription_ends_after_start",
                violation_error_message=_("A plan must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.plan}"

    def clean(self) -> None:
        super().clean()
        if self.company_id is None or self.plan_id is None or self.ended_on is not None:
            return
        blocking = (
            AddOnSubscription.objects.filter(company_id=self.company_id)
            .active_or_future(self.started_on)
            .exclude(addon__in=self.plan.addons.all())
            .select_related("addon")
            .first()
        )
        if blocking is not None:
            raise ValidationError(
                {
                    "plan": _(
                        "%(company)s has the %(addon)s add-on, which %(plan)s does not offer. "
                        "End the add-on before moving to this plan."
                    )
                    % {"company": self.company, "addon": blocking.addon, "plan": self.plan}
                }
            )


class AddOnSubscriptionQuerySet(models.QuerySet["AddOnSubscription"]):
    def active_on(self, day: datetime.date) -> AddOnSubscriptionQuerySet:
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day), starts_on__lte=day)

    def active_or_future(self, day: datetime.date) -> AddOnSubscriptionQuerySet:
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))


class AddOnSubscription(models.Model):
    """A company's subscription to an add-on, at the price agreed when it was taken."""

    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="addon_subscriptions",
    )
    addon = models.ForeignKey(
        AddOn, verbose_name=_("add-on"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    monthly_price = models.DecimalField(
        _("monthly price"),
        max_digits=10,
        decimal_places=2,
        blank=True,
        help_text=_("Copied from the add-on when left empty."),
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    starts_on = models.DateField(_("starts on"), default=datetime.date.today)
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("The first day without the add-on.")
    )

    objects = AddOnSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["company", "-starts_on"]
        verbose_name = _("add-on subscription")
        verbose_name_plural = _("add-on subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "addon"],
                condition=Q(ends_on__isnull=True),
                name="one_open_addon_subscription_per_company",
                violation_error_message=_("This company already holds this add-on."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
                name="addon_subscription_ends_after_start",
                violation_error_message=_("An add-on must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.addon}"

    def clean(self) -> None:
        super().clean()
        if self.addon_id is not None and self.monthly_price is None:
            self.monthly_price = self.addon.monthly_price
        if self.addon_id is not None and not self.currency:
            self.currency = self.addon.currency
        if self.company_id is None or self.addon_id is None:
            return
        overlapping = AddOnSubscription.objects.filter(
            company_id=self.company_id, addon_id=self.addon_id
        ).exclude(pk=self.pk)
        if self.ends_on is not None:
            overlapping = overlapping.filter(starts_on__lt=self.ends_on)
        if overlapping.active_or_future(self.starts_on).exists():
            raise ValidationError(
                _("%(company)s already has the %(addon)s add-on for part of this period.")
                % {"company": self.company, "addon": self.addon}
            )
        current = self.company.plan_subscriptions.filter(ended_on__isnull=True).first()
        if current is None or not current.plan.addons.filter(pk=self.addon_id).exists():
            offering = ", ".join(str(plan) for plan in self.addon.plans.all()) or "—"
            raise ValidationError(
                _(
                    "The %(addon)s add-on is only available on %(plans)s; "
                    "%(company)s is on %(plan)s."
                )
                % {
                    "addon": self.addon,
                    "plans": offering,
                    "company": self.company,
                    "plan": current.plan if current else _("no plan"),
                }
            )

    def is_active(self, day: datetime.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on > day)


class AssignmentRole(models.TextChoices):
    DEDICATED = "dedicated", _("Dedicated agent")
    BACKUP = "backup", _("Backup agent")


class DedicatedAssignmentQuerySet(models.QuerySet["DedicatedAssignment"]):
    def current(self) -> DedicatedAssignmentQuerySet:
        return self.filter(valid_to__isnull=True)


class DedicatedAssignment(models.Model):
    """One period during which an agent serves a company as its dedicated or backup agent."""

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="assignments"
    )
    agent = models.ForeignKey(
        User,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        related_name="dedicated_assignments",
        limit_choices_to={"agent_profile__isnull": False},
    )
    role = models.CharField(_("role"), max_length=16, choices=AssignmentRole.choices)
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        User,
        verbose_name=_("assigned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_by = models.ForeignKey(
        User,
        verbose_name=_("ended by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Who replaced or removed the agent; empty when the system did."),
    )

    objects = DedicatedAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["company", "-valid_from"]
        verbose_name = _("dedicated assignment")
        verbose_name_plural = _("dedicated assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "role"],
                condition=Q(valid_to__isnull=True),
                name="one_current_assignment_per_company_role",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["agent"],
                condition=Q(valid_to__isnull=True),
                name="current_assignment_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.get_role_display()} · {self.agent}"


class ApiToken(models.Model):
    """A named, expiring credential a user made for a script; only the token's SHA-256 is kept."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # The first characters, so the owner can tell tokens apart; they do not open anything.
    prefix = models.CharField(_("starts with"), max_length=12)
    key_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
