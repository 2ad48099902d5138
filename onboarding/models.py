"""Pharmacies, their staff, memberships, provider accounts, jobs and the audit trail of outbound calls."""

import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedJSONField
from .validators import validate_cpf, validate_e164, validate_rpps


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


class Function(models.TextChoices):
    """A member's function in the pharmacy, as Bimedoc names it."""

    TITULAIRE = "titulaire", _("Pharmacist in charge (titulaire)")
    ADJOINT = "adjoint", _("Assistant pharmacist (adjoint)")
    STAGIAIRE = "stagiaire", _("Trainee (stagiaire)")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractBaseUser, PermissionsMixin):
    """A member of pharmacy staff (or an admin); the email is the login."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    mobile_number = models.CharField(_("mobile number"), max_length=16, blank=True, validators=[validate_e164])
    rpps_number = models.CharField(_("RPPS number"), max_length=11, blank=True, validators=[validate_rpps])
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    cpf = models.CharField(_("CPF"), max_length=11, blank=True, validators=[validate_cpf])
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(fields=["cpf"], condition=~Q(cpf=""), name="user_cpf_unique"),
        ]
        indexes = [models.Index(fields=["cpf", "birth_date"], name="user_cpf_birth_idx")]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self):
        return self.first_name or self.email


class Pharmacy(models.Model):
    """A pharmacy, with the fields Bimedoc knows it by."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    phone_number = models.CharField(_("phone number"), max_length=16, blank=True, validators=[validate_e164])
    street = models.CharField(_("street and number"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="pharmacies")

    class Meta:
        verbose_name = _("pharmacy")
        verbose_name_plural = _("pharmacies")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pharmacy-detail", args=[self.public_id])


class Membership(models.Model):
    """A user's place in a pharmacy. A pharmacy always keeps at least one titulaire (see services)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.CASCADE, related_name="memberships")
    function = models.CharField(_("function"), max_length=16, choices=Function.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "pharmacy"], name="membership_unique")]
        ordering = ["pharmacy", "function", "user__email"]

    def __str__(self):
        return f"{self.user} @ {self.pharmacy} ({self.get_function_display()})"


class Provider(models.TextChoices):
    """The outside systems the portal talks to."""

    BIMEDOC = "bimedoc", "Bimedoc"
    EDIN = "edin", "EDIN"
    MOBILESAUDE = "mobilesaude", "Mobile Saúde"
    MCG = "mcg", "MCG"
    GATEWAY = "gateway", _("Delivery gateway")


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    DISCONNECTED = "disconnected", _("Disconnected")


class ProviderAccount(models.Model):
    """A user's or a pharmacy's account at a provider: its remote id, status and encrypted secrets."""

    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="provider_accounts"
    )
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.CASCADE, null=True, blank=True, related_name="provider_accounts")
    remote_id = models.CharField(_("remote id"), max_length=128, blank=True)
    login = models.CharField(_("login"), max_length=254, blank=True, help_text=_("The account's login name, if any."))
    status = models.CharField(_("status"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.PENDING)
    status_detail = models.TextField(_("status detail"), blank=True)
    secrets = EncryptedJSONField(_("secrets"))
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("provider account")
        verbose_name_plural = _("provider accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(pharmacy__isnull=False), name="provider_account_has_owner"
            ),
            models.UniqueConstraint(
                fields=["provider", "user"], condition=Q(user__isnull=False), name="provider_account_user_unique"
            ),
            models.UniqueConstraint(
                fields=["provider", "pharmacy"],
                condition=Q(user__isnull=True),
                name="provider_account_pharmacy_unique",
            ),
        ]

    def __str__(self):
        owner = self.user or self.pharmacy
        return f"{self.get_provider_display()} · {owner}"

    @property
    def is_active(self):
        return self.status == AccountStatus.ACTIVE


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting for the provider")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")


class Job(models.Model):
    """Work the portal accepted and runs in the background, step by step, with each step checkpointed."""

    FINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.NEEDS_ATTENTION)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    status = models.CharField(_("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="jobs",
        help_text=_("Whom the job is about."),
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    steps = models.JSONField(_("steps"), default=dict, blank=True, help_text=_("Checkpoint of each step."))
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    due_at = models.DateTimeField(_("next attempt"), null=True, blank=True, help_text=_("When a waiting job is tried again."))

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="job_status_idx")]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"

    @property
    def is_final(self):
        return self.status in self.FINAL_STATUSES


class CallOutcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    CLIENT_ERROR = "client_error", _("Refused (4xx)")
    SERVER_ERROR = "server_error", _("Provider error (5xx)")
    TIMEOUT = "timeout", _("Timeout")
    CONNECTION_ERROR = "connection_error", _("Connection error")
    INVALID_RESPONSE = "invalid_response", _("Invalid response")
    CIRCUIT_OPEN = "circuit_open", _("Not sent (provider unavailable)")
    # Recorded before sending and never completed: the process stopped mid-call.
    IN_FLIGHT = "in_flight", _("Outcome unknown (worker stopped)")


class OutboundCall(models.Model):
    """One outbound call to a provider, as recorded. Append-only; secrets are redacted before they get here."""

    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    operation = models.CharField(_("operation"), max_length=64)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=500)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    duration_ms = models.FloatField(_("duration (ms)"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices)
    request_excerpt = models.TextField(_("request (redacted)"), blank=True)
    response_excerpt = models.TextField(_("response (redacted)"), blank=True)
    error = models.TextField(_("error"), blank=True)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    correlation_id = models.CharField(_("correlation id"), max_length=64, blank=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_calls")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls")
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("outbound call")
        verbose_name_plural = _("outbound calls")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["provider", "created_at"], name="call_provider_time_idx")]

    def __str__(self):
        return f"{self.provider} {self.operation} {self.status_code or self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("The audit trail is append-only.")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Invitation(models.Model):
    """An invitation to join a pharmacy: nothing is created for the invited person until they accept it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pharmacy = models.ForeignKey(Pharmacy, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    function = models.CharField(_("function"), max_length=16, choices=Function.choices)
    details = models.JSONField(
        _("details"), default=dict, blank=True, help_text=_("The details the inviter typed, offered to the invited person.")
    )
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_invitations",
        help_text=_("Who answered it."),
    )
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pharmacy", "email"], condition=Q(status="pending"), name="invitation_pending_unique"
            ),
        ]
        indexes = [models.Index(fields=["email", "status"], name="invitation_email_idx")]

    def __str__(self):
        return f"{self.email} → {self.pharmacy} ({self.get_status_display()})"

    @property
    def is_expired(self):
        return self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now()

    @property
    def is_open(self):
        return self.status == InvitationStatus.PENDING and not self.is_expired
