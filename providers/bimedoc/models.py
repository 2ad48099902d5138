"""Bulk onboarding uploads: who uploaded which file when, and what became of each row."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onboarding.models import Job


class UploadStatus(models.TextChoices):
    INVALID = "invalid", _("Refused: the file has errors")
    STARTING = "starting", _("Starting the onboardings")
    STARTED = "started", _("Onboardings started")


class RowOutcome(models.TextChoices):
    INVALID = "invalid", _("Invalid")
    HELD = "held", _("Not started: other rows have errors")
    QUEUED = "queued", _("Waiting to start")
    STARTED = "started", _("Started")
    RESUMED = "resumed", _("Resumed")
    SKIPPED = "skipped", _("Already done")
    IN_PROGRESS = "in_progress", _("Already in progress")
    NEEDS_ATTENTION = "needs_attention", _("Waiting for an administrator")
    REFUSED = "refused", _("Refused")


class BulkUpload(models.Model):
    """A CSV file of pharmacies an administrator uploaded for bulk onboarding."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=UploadStatus.choices)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    problems = models.JSONField(
        _("problems"), default=list, blank=True, help_text=_("Why the file was refused: line, column and what is wrong.")
    )
    started_at = models.DateTimeField(_("onboardings started"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk onboarding upload")
        verbose_name_plural = _("bulk onboarding uploads")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})" if self.created_at else self.file_name


class BulkUploadRow(models.Model):
    """One row of an upload: the pharmacy and titulaire it names, its outcome and the job that onboards it."""

    upload = models.ForeignKey(BulkUpload, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(_("line"))
    email = models.CharField(_("titulaire's email"), max_length=254, blank=True)
    pharmacy_name = models.CharField(_("pharmacy"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=RowOutcome.choices)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("job"))

    class Meta:
        verbose_name = _("bulk onboarding row")
        verbose_name_plural = _("bulk onboarding rows")
        ordering = ["upload", "line"]
        indexes = [models.Index(fields=["upload", "outcome"], name="bulk_row_outcome_idx")]

    def __str__(self):
        return f"{self.upload_id}:{self.line} {self.email}"
