"""The pharmacy page's EDIN actions: connect, check again, disconnect, and the status the page polls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from onboarding import selectors
from onboarding.models import Pharmacy

from . import services
from .forms import ConnectForm


def _pharmacy(request, public_id) -> Pharmacy:
    """The pharmacy, only for its own members (others get 404)."""
    try:
        return selectors.pharmacies_of(request.user).get(public_id=public_id)
    except Pharmacy.DoesNotExist:
        raise Http404(_("No such pharmacy among yours.")) from None


def _back(pharmacy):
    return redirect(f"{pharmacy.get_absolute_url()}#edin")


@login_required
@require_POST
def connect(request, public_id):
    pharmacy = _pharmacy(request, public_id)
    services.require_manager(request.user, pharmacy)
    form = ConnectForm(request.POST)
    if not form.is_valid():
        page = selectors.pharmacy_page(public_id, request.user)
        membership = next(m for m in page.memberships.all() if m.user_id == request.user.pk)
        context = {"pharmacy": page, "membership": membership, "accounts": page.provider_accounts.all(), "edin_form": form}
        return render(request, "onboarding/pharmacy_detail.html", context, status=400)
    services.connect(
        pharmacy=pharmacy, email=form.cleaned_data["email"], password=form.cleaned_data["password"], requested_by=request.user
    )
    messages.info(request, _("EDIN account saved: checking it now."))
    return _back(pharmacy)


@login_required
@require_POST
def check_again(request, public_id):
    pharmacy = _pharmacy(request, public_id)
    try:
        services.check_again(pharmacy=pharmacy, requested_by=request.user)
    except services.NotConnected as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("Checking the EDIN account again."))
    return _back(pharmacy)


@login_required
@require_POST
def disconnect(request, public_id):
    pharmacy = _pharmacy(request, public_id)
    if services.disconnect(pharmacy=pharmacy, requested_by=request.user):
        messages.success(request, _("EDIN disconnected: the password and session were deleted."))
    return _back(pharmacy)


@login_required
@require_GET
def status(request, public_id):
    """The connection state as JSON, for the page to follow a check in progress."""
    state = services.connection_state(services.edin_account(_pharmacy(request, public_id)))
    return JsonResponse({"state": state.code, "label": state.label, "detail": state.detail})
