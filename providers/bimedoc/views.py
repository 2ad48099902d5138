"""Bimedoc pages: "Open Bimedoc" (SSO) and adding a colleague. Thin: parse, call a service, redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from onboarding import selectors
from onboarding import services as onboarding_services
from onboarding.models import Function, Pharmacy
from onboarding.views import verification_required
from providers.http import ProviderError

from . import services
from .forms import ColleagueForm


def _own_pharmacy(request, public_id) -> Pharmacy:
    try:
        return selectors.pharmacies_of(request.user).get(public_id=public_id)
    except Pharmacy.DoesNotExist:
        raise Http404(_("No such pharmacy among yours."))


@login_required
@require_POST
def open_bimedoc(request, public_id):
    """Ask Bimedoc for an SSO token now (it lives 120 s) and send the browser to the app."""
    pharmacy = _own_pharmacy(request, public_id)
    try:
        url = services.open_bimedoc(user=request.user, pharmacy=pharmacy)
    except services.NotReady as exc:
        messages.warning(request, str(exc))
    except ProviderError as exc:
        messages.error(
            request, _("Bimedoc could not be opened: %(reason)s Please try again.") % {"reason": services.failure_reason(exc)}
        )
    else:
        return redirect(url)
    return redirect(pharmacy)


@login_required
@require_http_methods(["GET", "POST"])
def add_colleague(request, public_id):
    pharmacy = _own_pharmacy(request, public_id)
    if not pharmacy.memberships.filter(user=request.user, function=Function.TITULAIRE).exists():
        raise PermissionDenied
    form = ColleagueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.add_colleague(
                pharmacy=pharmacy,
                by=request.user,
                function=form.cleaned_data["function"],
                email=form.cleaned_data["email"],
                **form.profile(),
            )
        except onboarding_services.EmailNotVerified as exc:
            return verification_required(request, str(exc))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            # The same answer whether the email has a portal account or not.
            messages.success(
                request,
                _("Invitation sent to %(email)s. They join the pharmacy, and get their Bimedoc account, once they accept it.")
                % {"email": invitation.email},
            )
            return redirect(pharmacy)
    return render(
        request,
        "bimedoc/add_colleague.html",
        {"form": form, "pharmacy": pharmacy, "email_verified": selectors.email_verified(request.user)},
    )


@login_required
@require_POST
def put_on_bimedoc(request, public_id):
    """The titulaire puts a pharmacy the portal has on Bimedoc: the wizard's last step, then its job page."""
    pharmacy = _own_pharmacy(request, public_id)
    try:  # only its titulaire may (PermissionDenied otherwise)
        job = services.start_pharmacy_onboarding(pharmacy=pharmacy, by=request.user)
    except onboarding_services.EmailNotVerified as exc:
        return verification_required(request, str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(pharmacy)
    return redirect("onboarding-job", public_id=job.public_id)
