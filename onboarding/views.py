"""Staff pages: sign-up, dashboard, profile and the pharmacy page. Thin: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .forms import ProfileForm, SignUpForm
from .models import Pharmacy


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = services.register_staff(
                email=form.cleaned_data["email"], password=form.cleaned_data["password1"], **form.profile()
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect("dashboard")
    return render(request, "onboarding/signup.html", {"form": form})


@login_required
def dashboard(request):
    memberships = request.user.memberships.select_related("pharmacy").order_by("pharmacy__name")
    jobs = request.user.jobs.exclude(status="succeeded").select_related("pharmacy")[:5]
    return render(request, "onboarding/dashboard.html", {"memberships": memberships, "jobs": jobs})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.update_profile(request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        messages.success(request, _("Your profile has been saved."))
        return redirect("profile")
    return render(request, "onboarding/profile.html", {"form": form})


@login_required
def pharmacy_detail(request, public_id):
    try:
        pharmacy = selectors.pharmacy_page(public_id, request.user)
    except Pharmacy.DoesNotExist:
        raise Http404(_("No such pharmacy among yours."))
    membership = next(m for m in pharmacy.memberships.all() if m.user_id == request.user.pk)
    return render(
        request,
        "onboarding/pharmacy_detail.html",
        {"pharmacy": pharmacy, "membership": membership, "accounts": pharmacy.provider_accounts.all()},
    )
