"""Admin for pharmacies, staff, provider accounts, jobs and the (read-only) audit trail."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from providers import breaker

from . import health, jobs
from .models import CallOutcome, Job, JobStatus, Membership, OutboundCall, Pharmacy, ProviderAccount, User

# A call still "in flight" after this long has lost its process: no answer will be recorded.
IN_FLIGHT_GRACE = timedelta(minutes=2)


def changelist_link(model, label, **filters):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def change_link(obj, label=None):
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose fields carry their label for assistive technology (the column headers are not tied to them)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class Labelled(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                for name, field in form.fields.items():
                    field.widget.attrs.setdefault("aria-label", str(field.label or name))

        return Labelled


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "pharmacy"]


class ProviderAccountInline(LabelledTabularInline):
    model = ProviderAccount
    extra = 0
    fields = ("provider", "remote_id", "login", "status", "verified_at", "updated_at")
    readonly_fields = ("verified_at", "updated_at")
    show_change_link = True


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "gender", "memberships__function")
    search_fields = ("email", "first_name", "last_name", "rpps_number", "cpf", "public_id")
    readonly_fields = ("public_id", "last_login", "date_joined", "calls")
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "mobile_number", "rpps_number", "gender", "cpf", "birth_date")},
        ),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Activity"), {"fields": ("last_login", "date_joined", "calls")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [MembershipInline, ProviderAccountInline]

    @admin.display(description=_("Outbound calls"))
    def calls(self, obj):
        return changelist_link(OutboundCall, _("Calls made for this user"), user__id__exact=obj.pk) if obj.pk else "—"


@admin.register(Pharmacy)
class PharmacyAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "postcode", "phone_number", "member_count", "created_at")
    search_fields = ("name", "city", "postcode", "public_id", "provider_accounts__remote_id")
    list_filter = ("city", "provider_accounts__provider", "provider_accounts__status")
    readonly_fields = ("public_id", "created_at", "updated_at", "links")
    inlines = [MembershipInline, ProviderAccountInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships", distinct=True))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj):
        return obj._members

    @admin.display(description=_("Related"))
    def links(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            "{} · {} · {}",
            changelist_link(OutboundCall, _("Outbound calls"), pharmacy__id__exact=obj.pk),
            changelist_link(Job, _("Jobs"), pharmacy__id__exact=obj.pk),
            changelist_link(ProviderAccount, _("Provider accounts"), pharmacy__id__exact=obj.pk),
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "pharmacy", "function", "created_at")
    list_filter = ("function",)
    search_fields = ("user__email", "pharmacy__name")
    autocomplete_fields = ["user", "pharmacy"]
    list_select_related = ("user", "pharmacy")


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = ("provider", "owner", "remote_id", "login", "status", "verified_at", "updated_at")
    list_filter = ("provider", "status")
    search_fields = ("remote_id", "login", "user__email", "pharmacy__name")
    autocomplete_fields = ["user", "pharmacy"]
    readonly_fields = ("has_secrets", "created_at", "updated_at", "calls")
    exclude = ("secrets",)
    list_select_related = ("user", "pharmacy")

    @admin.display(description=_("owner"))
    def owner(self, obj):
        return change_link(obj.user or obj.pharmacy)

    @admin.display(description=_("secrets stored"), boolean=True)
    def has_secrets(self, obj):
        return bool(obj.secrets)

    @admin.display(description=_("Outbound calls"))
    def calls(self, obj):
        if obj.pharmacy_id:
            return changelist_link(OutboundCall, _("Calls"), provider__exact=obj.provider, pharmacy__id__exact=obj.pharmacy_id)
        if obj.user_id:
            return changelist_link(OutboundCall, _("Calls"), provider__exact=obj.provider, user__id__exact=obj.user_id)
        return "—"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "pharmacy_link", "user", "attempts", "reason", "updated_at")
    list_filter = ("status", "kind")
    search_fields = ("public_id", "pharmacy__name", "user__email", "error", "task_id")
    readonly_fields = ("public_id", "created_at", "updated_at", "finished_at", "due_at", "calls", "settle")
    list_select_related = ("pharmacy", "user")
    autocomplete_fields = ["pharmacy", "user", "requested_by"]
    actions = ["retry_jobs"]

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return Truncator(obj.error).chars(120) if obj.status != JobStatus.SUCCEEDED else ""

    @admin.action(
        description=_("Retry the selected failed jobs (needs attention: only once checked at the provider)"),
        permissions=["change"],
    )
    def retry_jobs(self, request, queryset):
        stopped = list(queryset.filter(status__in=(JobStatus.FAILED, JobStatus.NEEDS_ATTENTION)))
        retried, skipped = 0, queryset.count() - len(stopped)
        for job in stopped:
            try:
                jobs.retry(job, by=request.user, checked=True)
            except LookupError:
                skipped += 1
            else:
                retried += 1
        if retried:
            self.message_user(request, _("%(n)s job(s) will be tried again.") % {"n": retried}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                _("%(n)s job(s) left as they are: only failed jobs and jobs that need attention are retried.") % {"n": skipped},
                messages.WARNING,
            )

    @admin.display(description=_("Settle by hand"))
    def settle(self, obj):
        settle = _settle_of(obj) if obj.pk else None
        if settle is None or not jobs.unfinished_steps(obj):
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>', reverse("admin:onboarding_job_settle", args=[obj.pk]), settle.label
        )

    def get_urls(self):
        return [
            path("<int:pk>/settle/", self.admin_site.admin_view(self.settle_view), name="onboarding_job_settle"),
            *super().get_urls(),
        ]

    def settle_view(self, request, pk):
        """Enter what an administrator found at the provider for the unfinished steps; the job then resumes after them.

        The form and the service come from the job's kind (``JobKind.settle``), as its provider declared them.
        """
        job = self.get_object(request, str(pk))
        settle = _settle_of(job) if job is not None else None
        if settle is None or not self.has_change_permission(request, job):
            raise Http404(_("No such job."))
        steps = jobs.unfinished_steps(job)
        form = settle.form(request.POST or None, steps=steps)
        if request.method == "POST" and form.is_valid():
            try:
                settle.resolve(job, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                self.message_user(request, _("The job resumes after the steps you settled."), messages.SUCCESS)
                return redirect("admin:onboarding_job_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Settle job #%(id)s by hand") % {"id": job.pk},
            "job": job,
            "form": form,
            "steps": steps,
            "opts": self.model._meta,
            "original": job,
        }
        return TemplateResponse(request, "admin/onboarding/job_settle.html", context)

    @admin.display(description=_("pharmacy"))
    def pharmacy_link(self, obj):
        return change_link(obj.pharmacy)

    @admin.display(description=_("Outbound calls"))
    def calls(self, obj):
        return changelist_link(OutboundCall, _("Calls of this job"), job__id__exact=obj.pk) if obj.pk else "—"


@admin.register(OutboundCall)
class OutboundCallAdmin(admin.ModelAdmin):
    change_list_template = "admin/onboarding/outboundcall/change_list.html"
    list_display = (
        "created_at",
        "provider",
        "operation",
        "method",
        "status_code",
        "outcome_display",
        "duration_ms",
        "attempt",
        "pharmacy_link",
        "job_link",
    )
    list_filter = ("provider", "outcome", "operation", "method", "created_at")
    search_fields = ("correlation_id", "task_id", "path", "pharmacy__name", "user__email", "error")
    date_hierarchy = "created_at"
    list_select_related = ("pharmacy", "job", "user")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("pharmacy"))
    def pharmacy_link(self, obj):
        return change_link(obj.pharmacy)

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_display(self, obj):
        if obj.outcome == CallOutcome.IN_FLIGHT and obj.created_at > timezone.now() - IN_FLIGHT_GRACE:
            return _("In progress")
        return obj.get_outcome_display()

    @admin.display(description=_("job"))
    def job_link(self, obj):
        return change_link(obj.job, f"#{obj.job_id}") if obj.job_id else "—"

    def get_urls(self):
        return [
            path("health/", self.admin_site.admin_view(self.health_view), name="onboarding_provider_health"),
            path(
                "health/<str:provider>/reset/",
                self.admin_site.admin_view(self.reset_circuit_view),
                name="onboarding_provider_circuit_reset",
            ),
            *super().get_urls(),
        ]

    def has_circuit_reset_permission(self, request):
        """Resuming calls changes state: it takes the change permission on outbound calls, not only the view one."""
        return request.user.has_perm("onboarding.change_outboundcall")

    def health_view(self, request):
        """Success rate and latency percentiles per provider over time, from the audit trail."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window", "24h")
        if window not in health.WINDOWS:
            window = "24h"
        providers = health.provider_health(window)
        charts = [_chart(h) for h in providers]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Provider health"),
            "charts": charts,
            "window": window,
            "windows": list(health.WINDOWS),
            "can_reset_circuit": self.has_circuit_reset_permission(request),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/onboarding/provider_health.html", context)

    def reset_circuit_view(self, request, provider):
        if not self.has_circuit_reset_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:onboarding_provider_health")
        breaker.reset(provider)
        self.message_user(request, _("Calls to %(provider)s resume now.") % {"provider": provider}, messages.SUCCESS)
        return redirect("admin:onboarding_provider_health")


def _settle_of(job):
    """How an administrator settles this job by hand, if its kind says (None for unknown kinds)."""
    try:
        return jobs.kind_of(job).settle
    except LookupError:
        return None


def _latency_top(h):
    values = [b.p99 for b in h.buckets if b.p99 is not None]
    return max(values) if values else 1.0


CHART_WIDTH, CHART_HEIGHT = 480, 120


def _chart(h) -> dict:
    """A provider's charts: each series' polyline and, on every known value, a dot (one bucket is a point)."""
    top = _latency_top(h)
    series = {
        "success": ([b.success_rate for b in h.buckets], 100),
        "p50": ([b.p50 for b in h.buckets], top),
        "p95": ([b.p95 for b in h.buckets], top),
        "p99": ([b.p99 for b in h.buckets], top),
    }
    dots = {name: health.chart_coordinates(values, CHART_WIDTH, CHART_HEIGHT, top=t) for name, (values, t) in series.items()}
    lines = {name: health.polyline(coordinates) for name, coordinates in dots.items()}
    return {"health": h, **lines, "latency_top": top, "dots": dots}
