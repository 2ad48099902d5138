"""Staff pages: dashboard, profile, invitations and the pharmacy page. Thin: parse, call a service, render."""

from allauth.account.forms import default_token_generator as account_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.core import ratelimit
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator as legacy_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import invitations, jobs, registry, selectors, services
from .forms import InvitationSignUpForm, ProfileForm
from .models import Invitation, InvitationStatus, Pharmacy, User

ACCOUNT_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def verification_required(request, reason: str, status: int = 403):
    """The page that says why nothing was created (the email is not verified yet) and offers to resend the link."""
    return render(request, "onboarding/verify_email_required.html", {"reason": reason}, status=status)


@login_required
def dashboard(request):
    memberships = request.user.memberships.select_related("pharmacy").order_by("pharmacy__name")
    unfinished = [
        (job, jobs.page_url(job)) for job in request.user.jobs.exclude(status="succeeded").select_related("pharmacy")[:5]
    ]
    verified = selectors.email_verified(request.user)
    # Only someone who proved the address may see what it was invited to.
    pending = list(invitations.pending_for(request.user)) if verified else []
    return render(
        request,
        "onboarding/dashboard.html",
        {
            "memberships": memberships,
            "jobs": unfinished,
            "invitations": pending,
            "email_verified": verified,
            "actions": registry.actions(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST":
        # Every try at a new CPF counts, refused ones too: the limit is what stops guessing.
        submitted_cpf = "".join(ch for ch in form.data.get("cpf", "") if ch.isdigit())
        if submitted_cpf and submitted_cpf != user.cpf and not ratelimit.consume(request, action="change_cpf", user=user):
            form.is_valid()
            form.add_error("cpf", _("Too many CPF changes. Wait an hour, then try again."))
        elif form.is_valid():
            services.update_profile(user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
            messages.success(request, _("Your profile has been saved."))
            return redirect("profile")
    context = {
        "form": form,
        "email_verified": selectors.email_verified(user),
        "pending_email": EmailAddress.objects.filter(user=user, verified=False).exclude(email__iexact=user.email).first(),
        "authenticators": {a.type for a in Authenticator.objects.filter(user=user)},
        "other_sessions": sum(
            1 for s in UserSession.objects.purge_and_list(user) if s.session_key != request.session.session_key
        ),
    }
    return render(request, "onboarding/profile.html", context)


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
        {
            "pharmacy": pharmacy,
            "membership": membership,
            "accounts": pharmacy.provider_accounts.all(),
            "invitations": selectors.invitations_of(pharmacy) if membership.function == "titulaire" else [],
        },
    )


# --- Invitations --------------------------------------------------------------------------


def _accept(request, invitation: Invitation, user: User, details: dict | None = None):
    handler = registry.join_handler()
    _invitation, job = invitations.accept(
        invitation, user=user, details=details, start_job=handler.start_job if handler else None
    )
    if job is None:
        messages.success(request, _("You joined %(pharmacy)s.") % {"pharmacy": invitation.pharmacy.name})
        return redirect(invitation.pharmacy)
    messages.success(request, str(handler.message) % {"pharmacy": invitation.pharmacy.name})
    return redirect(jobs.page_url(job) or invitation.pharmacy.get_absolute_url())


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The page the invitation email links to: accept (logged in as the invited account, or creating it) or decline."""
    found = invitations.from_token(token)
    if found is None:
        return render(request, "onboarding/invitation_invalid.html", status=404)
    try:
        invitations.ensure_open(found)
    except invitations.InvitationClosed as closed:
        return render(request, "onboarding/invitation_closed.html", {"invitation": found, "reason": str(closed)}, status=410)
    invitee = invitations.invited_user(found)
    if invitee is None:
        mode = "signup"
    elif not request.user.is_authenticated:
        mode = "login"
    elif request.user.pk != invitee.pk:
        mode = "other_user"
    else:
        mode = "accept"
    form = None
    if mode == "signup":
        form = InvitationSignUpForm(
            request.POST if request.POST.get("action") == "accept" else None,
            initial=invitations.request_details(found),
            email=found.email,
        )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "decline":
                invitations.decline(found, user=invitee)
                return render(request, "onboarding/invitation_declined.html", {"invitation": found})
            if action == "accept" and mode == "accept":
                services.mark_email_verified(invitee, found.email)  # the emailed link proves it
                return _accept(request, found, invitee)
            if action == "accept" and mode == "signup" and form.is_valid():
                with transaction.atomic():
                    details = form.profile()
                    user = services.register_staff(
                        email=found.email, password=form.cleaned_data["password1"], email_verified=True, **details
                    )
                    response = _accept(request, found, user, details=details)
                login(request, user, backend=ACCOUNT_BACKEND)
                return response
        except invitations.InvitationClosed as closed:
            return render(request, "onboarding/invitation_closed.html", {"invitation": found, "reason": str(closed)}, status=410)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    context = {
        "invitation": found,
        "mode": mode,
        "form": form,
        "login_url": f"{reverse('account_login')}?next={request.path}",
    }
    return render(request, "onboarding/invitation.html", context)


@login_required
@require_POST
def answer_invitation(request, public_id):
    """Accept or decline, from the dashboard, an invitation to one's own (verified) address."""
    found = Invitation.objects.filter(
        public_id=public_id, email__iexact=request.user.email, status=InvitationStatus.PENDING
    ).first()
    if found is None or not selectors.email_verified(request.user):
        raise Http404(_("No such invitation for you."))
    try:
        if request.POST.get("action") == "accept":
            return _accept(request, found, request.user)
        invitations.decline(found, user=request.user)
        messages.info(request, _("You declined the invitation to %(pharmacy)s.") % {"pharmacy": found.pharmacy.name})
    except invitations.InvitationClosed as closed:
        messages.warning(request, str(closed))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("dashboard")


# --- Links from before django-allauth -------------------------------------------------------


def legacy_password_reset_link(request, uidb64, token):
    """An emailed "choose your password" link of Django's auth views: still honoured while it is valid."""
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not legacy_token_generator.check_token(user, token):
        messages.error(request, _("This link has expired or was already used. Ask for a new one below."))
        return redirect("account_reset_password")
    key = f"{user_pk_to_url_str(user)}-{account_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"}).replace("UID-KEY", key)
    return redirect(path)
