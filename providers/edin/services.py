"""What the portal does with EDIN: connect a pharmacy's account, verify it, disconnect it, open its session.

The account is ``ProviderAccount(provider="edin", pharmacy=...)``: ``login`` is the EDIN email,
``secrets`` (encrypted) holds ``password``, ``sid`` and ``sid_used_at``. ``status_detail`` holds one
of the ``Detail`` codes; the sentence shown for it is translated when shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onboarding import services as onboarding_services
from onboarding.audit import record_call
from onboarding.models import AccountStatus, Function, Membership, Pharmacy, Provider, ProviderAccount, User
from onboarding.services import require_member
from providers import http
from providers.http import AuthenticationError, InvalidRequest

from .client import PROVIDER, CaptchaRequired, EdinClient, EdinSession, build_edin_session
from .conf import conf

MANAGERS = (Function.TITULAIRE, Function.ADJOINT)


class Detail:
    """Why a connection is where it is: the codes kept in ``status_detail``."""

    CHECKING = "checking"
    WRONG_CREDENTIALS = "wrong_credentials"
    CAPTCHA = "captcha_required"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"


# The sentence shown for each code.
DETAIL_MESSAGES = {
    Detail.CHECKING: _("Checking the email and password with EDIN…"),
    Detail.WRONG_CREDENTIALS: _("EDIN refused this email and password. Check them and connect again."),
    Detail.CAPTCHA: _(
        "EDIN wants a captcha after several failed sign-ins, which the portal cannot solve. "
        "Sign in once on EDIN's own site with this account, then press “Check again”."
    ),
    Detail.UNREACHABLE: _("EDIN could not be reached. Press “Check again” in a few minutes."),
    Detail.REFUSED: _("EDIN refused the request. Check the email address and connect again."),
}


class NotConnected(Exception):
    """The pharmacy has no working EDIN connection."""


@dataclass(frozen=True)
class ConnectionState:
    """How the pharmacy's EDIN connection is shown: a code, a label and the reason."""

    code: str
    label: str
    detail: str
    css: str


_STATES = {
    "not_connected": (_("Not connected"), "disconnected"),
    "checking": (_("Checking…"), "pending"),
    "connected": (_("Connected"), "active"),
    "wrong_credentials": (_("Wrong email or password"), "failed"),
    "captcha_required": (_("Captcha required"), "needs_attention"),
    "unreachable": (_("Could not check"), "needs_attention"),
    "refused": (_("Refused by EDIN"), "failed"),
}


def edin_account(pharmacy: Pharmacy) -> ProviderAccount | None:
    """The pharmacy's EDIN account, if it ever connected one."""
    return ProviderAccount.objects.filter(provider=Provider.EDIN, pharmacy=pharmacy, user__isnull=True).first()


def connection_state(account: ProviderAccount | None) -> ConnectionState:
    """The state of a pharmacy's EDIN connection, as the pharmacy page shows it."""
    if account is None or account.status == AccountStatus.DISCONNECTED:
        code = "not_connected"
    elif account.status == AccountStatus.PENDING:
        code = "checking"
    elif account.status == AccountStatus.ACTIVE:
        code = "connected"
    elif account.status_detail in (Detail.CAPTCHA, Detail.UNREACHABLE, Detail.REFUSED):
        code = account.status_detail
    else:
        code = "wrong_credentials"
    label, css = _STATES[code]
    detail = str(DETAIL_MESSAGES.get(account.status_detail, "")) if account is not None else ""
    return ConnectionState(code=code, label=str(label), detail=detail, css=css)


def can_manage(membership: Membership | None) -> bool:
    """Whether this member may connect and disconnect the pharmacy's EDIN account."""
    return membership is not None and membership.function in MANAGERS


def require_manager(user: User, pharmacy: Pharmacy) -> Membership:
    """The user's membership if titulaire or adjoint of the pharmacy, else PermissionDenied."""
    return require_member(user, pharmacy, MANAGERS)


def _build(outbound: http.Outbound) -> EdinClient:
    (base_url,) = outbound.key
    return EdinClient(base_url, **outbound.transport_options())


def edin_client() -> EdinClient:
    """The process's client for the configured EDIN server, recording every call in the audit trail."""
    return http.client_for(
        PROVIDER, _build, key=(conf.BASE_URL,), recorder=record_call, session_factory=build_edin_session
    )


@transaction.atomic
def connect(*, pharmacy: Pharmacy, email: str, password: str, requested_by: User) -> ProviderAccount:
    """Keep the pharmacy's EDIN email and password and have a task check them by a real login."""
    from .tasks import verify_connection

    require_manager(requested_by, pharmacy)
    account = onboarding_services.lock_account(Provider.EDIN, pharmacy=pharmacy, create=True)
    onboarding_services.change_account(
        account,
        login=email.strip().lower(),
        secrets={"password": password},
        status=AccountStatus.PENDING,
        status_detail=Detail.CHECKING,
        verified_at=None,
    )
    verify_connection.delay_on_commit(account.pk, requested_by.pk)
    return account


@transaction.atomic
def check_again(*, pharmacy: Pharmacy, requested_by: User) -> ProviderAccount:
    """Check the stored credentials again (e.g. once the captcha was solved on EDIN's site)."""
    from .tasks import verify_connection

    require_manager(requested_by, pharmacy)
    account = onboarding_services.lock_account(Provider.EDIN, pharmacy=pharmacy)
    if account is None or account.status == AccountStatus.DISCONNECTED or not account.secrets.get("password"):
        raise NotConnected(gettext("Connect an EDIN account first."))
    onboarding_services.change_account(account, status=AccountStatus.PENDING, status_detail=Detail.CHECKING)
    verify_connection.delay_on_commit(account.pk, requested_by.pk)
    return account


@transaction.atomic
def disconnect(*, pharmacy: Pharmacy, requested_by: User) -> ProviderAccount | None:
    """Forget the pharmacy's EDIN password and session; the email stays to ease reconnecting."""
    require_manager(requested_by, pharmacy)
    account = onboarding_services.lock_account(Provider.EDIN, pharmacy=pharmacy)
    if account is None:
        return None
    return onboarding_services.change_account(
        account, secrets={}, status=AccountStatus.DISCONNECTED, status_detail="", verified_at=None
    )


def verify(account_id: int) -> ProviderAccount | None:
    """Log in to EDIN with the account's stored credentials and record the outcome.

    RetryableError (EDIN unreachable, 5xx, unreadable answer) propagates for the caller to retry.
    """
    account = ProviderAccount.objects.filter(pk=account_id, provider=Provider.EDIN).first()
    if account is None or account.status == AccountStatus.DISCONNECTED or not account.secrets.get("password"):
        return account
    login, password = account.login, account.secrets["password"]
    try:
        sid = edin_client().login(login, password)
    except CaptchaRequired:
        return _save_outcome(account_id, login, password, AccountStatus.NEEDS_ATTENTION, Detail.CAPTCHA)
    except AuthenticationError:
        return _save_outcome(account_id, login, password, AccountStatus.FAILED, Detail.WRONG_CREDENTIALS)
    except InvalidRequest:
        return _save_outcome(account_id, login, password, AccountStatus.FAILED, Detail.REFUSED)
    return _save_outcome(account_id, login, password, AccountStatus.ACTIVE, "", sid=sid, used_at=timezone.now().timestamp())


def mark_unreachable(account_id: int) -> None:
    """After the last attempt to reach EDIN: ask the pharmacy to check again later."""
    onboarding_services.mark_account_if(
        account_id, status_is=AccountStatus.PENDING, status=AccountStatus.NEEDS_ATTENTION, status_detail=Detail.UNREACHABLE
    )


def open_session(pharmacy: Pharmacy) -> EdinSession:
    """An authenticated EDIN session for the pharmacy's connected account; its SID is saved as it changes."""
    account = edin_account(pharmacy)
    if account is None or account.status != AccountStatus.ACTIVE or not account.secrets.get("password"):
        raise NotConnected(gettext("This pharmacy has no working EDIN connection."))
    return PharmacySession(
        edin_client(),
        account.login,
        account.secrets["password"],
        account_id=account.pk,
        sid=account.secrets.get("sid", ""),
        used_at=account.secrets.get("sid_used_at"),
        idle_seconds=conf.SESSION_IDLE_SECONDS,
    )


class PharmacySession(EdinSession):
    """A pharmacy's EDIN session: keeps each new SID in the account, and marks the account when login fails."""

    def __init__(self, client, email, password, *, account_id: int, **kwargs):
        super().__init__(client, email, password, on_sid_change=self._keep_sid, **kwargs)
        self.account_id = account_id

    def login(self) -> str:
        try:
            return super().login()
        except CaptchaRequired:
            _save_outcome(self.account_id, self.email, self._password, AccountStatus.NEEDS_ATTENTION, Detail.CAPTCHA)
            raise
        except AuthenticationError:
            _save_outcome(self.account_id, self.email, self._password, AccountStatus.FAILED, Detail.WRONG_CREDENTIALS)
            raise

    def _keep_sid(self, sid: str, used_at: float) -> None:
        _save_outcome(self.account_id, self.email, self._password, AccountStatus.ACTIVE, "", sid=sid, used_at=used_at)


@transaction.atomic
def _save_outcome(account_id, login, password, status, detail, *, sid="", used_at=None) -> ProviderAccount | None:
    """Record a login's outcome, unless the account's credentials changed (or it was disconnected) meanwhile."""
    account = onboarding_services.lock_account(Provider.EDIN, pk=account_id)
    if (
        account is None
        or account.status == AccountStatus.DISCONNECTED
        or account.login != login
        or account.secrets.get("password") != password
    ):
        return account
    secrets = {"password": password}
    if sid:
        secrets.update(sid=sid, sid_used_at=used_at)
    first_success = status == AccountStatus.ACTIVE and account.status != AccountStatus.ACTIVE
    verified_at = account.verified_at
    if first_success or (status == AccountStatus.ACTIVE and verified_at is None):
        verified_at = timezone.now()
    elif status != AccountStatus.ACTIVE:
        verified_at = None
    return onboarding_services.change_account(
        account, secrets=secrets, status=status, status_detail=detail, verified_at=verified_at
    )
