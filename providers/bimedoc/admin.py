"""Bimedoc's admin screens: bulk onboarding (upload a CSV, see every row's errors, then follow the onboardings live)
and the form that settles a Bimedoc job by hand (served by the job admin, as Bimedoc's kinds of job declare)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import bulk, bulk_uploads
from .conf import conf
from .models import BulkUpload, BulkUploadRow, UploadStatus
from .selectors import STEP_CREATE_PHARMACY, STEP_CREATE_USER

ROWS_PER_PAGE = 100


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, separated by commas, semicolons or tabs, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@admin.register(BulkUpload)
class BulkUploadAdmin(admin.ModelAdmin):
    list_display = ("created_at", "file_name", "uploaded_by", "status", "row_count", "progress_link")
    list_select_related = ("uploaded_by",)  # nullable: the changelist would not join it by itself
    list_filter = ("status",)
    search_fields = ("file_name", "uploaded_by__email", "rows__email")
    date_hierarchy = "created_at"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name=f"{name}_progress"),
            path("<int:pk>/progress.json", self.admin_site.admin_view(self.progress_json), name=f"{name}_progress_json"),
            *super().get_urls(),
        ]

    def has_change_permission(self, request, obj=None):
        return False  # an upload is a record: what was sent, by whom, and what became of it

    @admin.display(description=_("Rows"))
    def progress_link(self, obj):
        url = reverse("admin:bimedoc_bulkupload_progress", args=[obj.pk])
        label = _("See the errors") if obj.status == UploadStatus.INVALID else _("Follow the onboardings")
        return format_html('<a href="{}">{}</a>', url, label)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:bimedoc_bulkupload_progress", pk=object_id)

    def add_view(self, request, form_url="", extra_context=None):
        """Upload a file: its rows' errors are shown here, nothing started; a valid file goes to its progress page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
        upload = None
        if form.is_bound and form.is_valid():
            upload = bulk_uploads.receive(form.cleaned_data["file"], by=request.user)
            if upload.status != UploadStatus.INVALID:
                return redirect("admin:bimedoc_bulkupload_progress", pk=upload.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Bulk onboarding: upload a CSV file"),
            "form": form,
            "upload": upload,
            "columns": bulk.COLUMNS,
            "required_columns": bulk.REQUIRED_COLUMNS,
            "max_bytes": conf.BULK_UPLOAD_MAX_BYTES,
            "has_view_permission": self.has_view_permission(request),
        }
        status = 400 if form.is_bound else 200  # a valid file has been redirected
        return TemplateResponse(request, "admin/bimedoc/bulkupload/upload.html", context, status=status)

    def _upload(self, request, pk) -> BulkUpload:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(BulkUpload.objects.select_related("uploaded_by"), pk=pk)

    def _rows_page(self, request, upload):
        rows = upload.rows.select_related("job").order_by("line")
        state = request.GET.get("state", "")
        if state:
            rows = rows.filter(Q(job__status=state) | Q(job__isnull=True, outcome=state))
        return Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page")), state

    def _progress(self, request, upload):
        """The upload's progress as the page and its JSON show it: counts per state (labelled), this page's rows."""
        page, state = self._rows_page(request, upload)
        labels = bulk_uploads.state_labels()
        progress = bulk_uploads.progress(upload)
        progress["counts"] = [{"state": s, "label": labels.get(s, s), "n": n} for s, n in sorted(progress["counts"].items())]
        progress["rows"] = [_row(r, labels) for r in page.object_list]
        return progress, page, state, labels.get(state, state)

    def progress_view(self, request, pk):
        upload = self._upload(request, pk)
        progress, page, state, state_label = self._progress(request, upload)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Bulk onboarding: %(file)s") % {"file": upload.file_name},
            "upload": upload,
            "progress": progress,
            "page": page,
            "state": state,
            "state_label": state_label,
            "json_url": reverse("admin:bimedoc_bulkupload_progress_json", args=[upload.pk]) + f"?{request.GET.urlencode()}",
        }
        return TemplateResponse(request, "admin/bimedoc/bulkupload/progress.html", context)

    def progress_json(self, request, pk):
        progress, *_page = self._progress(request, self._upload(request, pk))
        return JsonResponse(progress)


def _row(row: BulkUploadRow, labels: dict) -> dict:
    state = bulk_uploads.row_state(row)
    if row.problems:
        reason = "; ".join(bulk.Problem(**p).what for p in row.problems)
    elif row.job_id:
        reason = row.job.error
    else:
        reason = ""
    return {
        "line": row.line,
        "email": row.email,
        "pharmacy": row.pharmacy_name,
        "outcome": str(row.get_outcome_display()),
        "state": state,
        "state_label": labels.get(state, state),
        "reason": reason,
        "job_id": row.job_id,
        "job_url": reverse("admin:onboarding_job_change", args=[row.job_id]) if row.job_id else "",
    }


class SettleForm(forms.Form):
    """The ids an administrator found at Bimedoc for the creates whose outcome the portal does not know."""

    remote_user_id = forms.CharField(label=_("Id of the user on Bimedoc"), required=False, max_length=255)
    remote_pharmacy_id = forms.CharField(label=_("Id of the pharmacy on Bimedoc"), required=False, max_length=255)

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        if STEP_CREATE_USER not in steps:
            del self.fields["remote_user_id"]
        if STEP_CREATE_PHARMACY not in steps:
            del self.fields["remote_pharmacy_id"]
