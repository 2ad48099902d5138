"""The pharmacy set-up wizard (titulaire, pharmacy, review) and the page that follows its job live."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onboarding import jobs, selectors, services
from onboarding.models import Job, JobStatus
from onboarding.services import PHARMACY_FIELDS
from onboarding.views import verification_required

from . import labels
from . import services as bimedoc
from .forms import PharmacyForm, TitulaireForm
from .selectors import STEP_CREATE_PHARMACY, can_manage_job, job_person, visible_job

SESSION_KEY = "pharmacy_wizard"
PROFILE_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender")


def _state(request) -> dict:
    state = request.session.get(SESSION_KEY)
    if not state:
        state = {"key": uuid.uuid4().hex}
        request.session[SESSION_KEY] = state
    return state


def _save(request, state):
    request.session[SESSION_KEY] = state
    request.session.modified = True


def _idempotency_key(user, key: str) -> str:
    return f"wizard:{user.pk}:{key}"


def _refusal(request):
    """Render why the user cannot set up a pharmacy on Bimedoc, or None when they can."""
    try:
        bimedoc.check_can_get_account(request.user)
    except ValidationError as exc:
        return render(request, "bimedoc/wizard_refused.html", {"reasons": exc.messages}, status=409)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def titulaire_step(request):
    """Step 1: the titulaire (the signed-in user), prefilled from the profile."""
    refusal = _refusal(request)
    if refusal:
        return refusal
    state = _state(request)
    user = request.user
    initial = state.get("titulaire") or {f: getattr(user, f) for f in PROFILE_FIELDS}
    form = TitulaireForm(request.POST or None, initial=initial)
    form.instance_pk = user.pk
    if request.method == "POST" and form.is_valid():
        state["titulaire"] = {f: form.cleaned_data[f] for f in PROFILE_FIELDS}
        _save(request, state)
        return redirect("wizard-pharmacy")
    return render(request, "bimedoc/wizard_titulaire.html", {"form": form, "step": 1})


@login_required
@require_http_methods(["GET", "POST"])
def pharmacy_step(request):
    """Step 2: the pharmacy."""
    state = _state(request)
    if "titulaire" not in state:
        return redirect("wizard-titulaire")
    form = PharmacyForm(request.POST or None, initial=state.get("pharmacy"))
    if request.method == "POST" and form.is_valid():
        state["pharmacy"] = form.cleaned_data
        _save(request, state)
        return redirect("wizard-review")
    return render(request, "bimedoc/wizard_pharmacy.html", {"form": form, "step": 2})


@login_required
@require_http_methods(["GET", "POST"])
def review_step(request):
    """Step 3: review, then submit once: the same key never starts a second job."""
    if request.method == "POST":
        key = request.POST.get("key", "")
        job = Job.objects.filter(idempotency_key=_idempotency_key(request.user, key)).first() if key else None
        if job is not None:
            return redirect("onboarding-job", public_id=job.public_id)
    state = _state(request)
    if "titulaire" not in state:
        return redirect("wizard-titulaire")
    if "pharmacy" not in state:
        return redirect("wizard-pharmacy")
    titulaire = TitulaireForm(state["titulaire"])
    titulaire.instance_pk = request.user.pk
    pharmacy = PharmacyForm(state["pharmacy"])
    if request.method == "POST":
        if request.POST.get("key") != state["key"]:
            messages.warning(request, _("This form was out of date; please check the details and submit again."))
            return redirect("wizard-review")
        if not titulaire.is_valid():
            return redirect("wizard-titulaire")
        if not pharmacy.is_valid():
            return redirect("wizard-pharmacy")
        try:
            services.require_verified_email(request.user)
        except services.EmailNotVerified as exc:
            return verification_required(request, str(exc))
        try:
            job = bimedoc.start_onboarding(
                titulaire=request.user,
                profile=titulaire.cleaned_data,
                pharmacy_fields=pharmacy.cleaned_data,
                idempotency_key=_idempotency_key(request.user, state["key"]),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("wizard-review")
        request.session.pop(SESSION_KEY, None)
        return redirect("onboarding-job", public_id=job.public_id)
    return render(
        request,
        "bimedoc/wizard_review.html",
        {
            "titulaire": titulaire,
            "pharmacy": pharmacy,
            "key": state["key"],
            "email": request.user.email,
            "step": 3,
            "email_verified": selectors.email_verified(request.user),
        },
    )


def _job_or_404(request, public_id) -> Job:
    try:
        return visible_job(public_id, request.user)
    except Job.DoesNotExist:
        raise Http404(_("No such job among yours."))


def job_state(job: Job) -> dict:
    """What the status page shows about a job (also its JSON)."""
    return jobs.state(job)


@login_required
@require_GET
def job_detail(request, public_id):
    job = _job_or_404(request, public_id)
    field_errors = [
        (str(labels.FIELD_LABELS.get(name, name)), " ".join(errors))
        for name, errors in job.payload.get("field_errors", {}).items()
    ]
    return render(
        request,
        "bimedoc/wizard_job.html",
        {
            "job": job,
            "state": job_state(job),
            "kind_label": labels.KIND_LABELS.get(job.kind, job.kind),
            # A job that needs attention is settled by an administrator (a create may have landed).
            "can_retry": job.status == JobStatus.FAILED and can_manage_job(request.user, job),
            "field_errors": field_errors,
            "can_correct": jobs.step_to_correct(job) is not None and can_manage_job(request.user, job),
            "status_url": reverse("onboarding-job-status", args=[job.public_id]),
        },
    )


@login_required
@require_GET
def job_status(request, public_id):
    return JsonResponse(job_state(_job_or_404(request, public_id)))


@login_required
@require_POST
def job_retry(request, public_id):
    job = _job_or_404(request, public_id)
    try:
        bimedoc.retry_job(job, by=request.user)
    except PermissionDenied:
        raise Http404(_("No such job among yours."))
    messages.info(request, _("Trying again from the step that failed."))
    return redirect("onboarding-job", public_id=job.public_id)


@login_required
@require_http_methods(["GET", "POST"])
def job_correct(request, public_id):
    """Show the details Bimedoc refused as form field errors; saving them resumes the job."""
    job = _job_or_404(request, public_id)
    step = jobs.step_to_correct(job)
    if step is None or not can_manage_job(request.user, job):
        raise Http404(_("Nothing to correct in this job."))
    if step == STEP_CREATE_PHARMACY:
        form_class, fields = PharmacyForm, PHARMACY_FIELDS
        current = {f: getattr(job.pharmacy, f) for f in fields}
    else:
        # The job's own request data: correcting it never touches the person's profile.
        form_class, fields = TitulaireForm, PROFILE_FIELDS
        person = job_person(job)
        current = {f: person.get(f, "") for f in fields}
    form = form_class(request.POST or current)
    valid = form.is_valid()
    if request.method == "POST" and valid:
        changes = {f: form.cleaned_data[f] for f in fields}
        try:
            if form_class is PharmacyForm:
                bimedoc.correct_and_retry(job, by=request.user, pharmacy_fields=changes)
            else:
                bimedoc.correct_and_retry(job, by=request.user, user_fields=changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.info(request, _("Details saved; trying again from the step that failed."))
            return redirect("onboarding-job", public_id=job.public_id)
    if request.method == "GET":
        # Bimedoc's own answer, on the fields it is about.
        for name, errors in job.payload["field_errors"].items():
            form.add_error(name if name in form.fields else None, [f"Bimedoc: {message}" for message in errors])
    return render(request, "bimedoc/wizard_correct.html", {"form": form, "job": job})
