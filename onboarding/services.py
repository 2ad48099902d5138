"""Services that change pharmacies, staff, memberships and provider accounts: the only place that does."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import selectors
from .models import AccountStatus, Function, Membership, Pharmacy, ProviderAccount, User

USER_PROFILE_FIELDS = ("first_name", "last_name", "mobile_number", "rpps_number", "gender", "cpf", "birth_date")
PHARMACY_FIELDS = ("name", "phone_number", "street", "city", "postcode")


class EmailNotVerified(PermissionDenied):
    """The user has not verified their email address yet: the portal creates nothing at a provider for them."""


def register_staff(*, email: str, password: str | None, email_verified: bool = False, **profile) -> User:
    """Create a staff user from cleaned data (password None = must set one by email), with their primary address."""
    unknown = set(profile) - set(USER_PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown profile fields: {sorted(unknown)}")
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, **profile)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    return user


def require_verified_email(user: User) -> None:
    """Raise EmailNotVerified unless the user's email address is verified."""
    if not selectors.email_verified(user):
        raise EmailNotVerified(_("Verify your email address first: we sent you a link when you signed up."))


def mark_email_verified(user: User, email: str | None = None) -> None:
    """Record that the user proved they receive mail at ``email`` (default: their login address)."""
    email = (email or user.email).lower()
    address, _created = EmailAddress.objects.get_or_create(
        user=user, email__iexact=email, defaults={"email": email, "primary": email == user.email.lower()}
    )
    if not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])


def verify_after_password_reset(user: User) -> None:
    """A new password chosen through the emailed link proves the address it was sent to.

    The link does not say which address that was, so only an account with a
    single address is marked (then it can only have been that one).
    """
    addresses = list(EmailAddress.objects.filter(user=user))
    if len(addresses) == 1 and addresses[0].email.lower() == user.email.lower():
        mark_email_verified(user)


def update_profile(user: User, **profile) -> User:
    """Save changes to a user's own profile fields."""
    for name, value in profile.items():
        if name not in USER_PROFILE_FIELDS:
            raise TypeError(f"Not a profile field: {name}")
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(profile))
    return user


def update_pharmacy(pharmacy: Pharmacy, **fields) -> Pharmacy:
    """Save changes to a pharmacy's own fields."""
    for name, value in fields.items():
        if name not in PHARMACY_FIELDS:
            raise TypeError(f"Not a pharmacy field: {name}")
        setattr(pharmacy, name, value)
    pharmacy.full_clean()
    pharmacy.save(update_fields=[*fields, "updated_at"])
    return pharmacy


@transaction.atomic
def create_pharmacy(*, titulaire: User, **fields) -> Pharmacy:
    """Create a pharmacy with its first member, who is its titulaire."""
    pharmacy = Pharmacy(**{k: v for k, v in fields.items() if k in PHARMACY_FIELDS})
    pharmacy.full_clean()
    pharmacy.save()
    Membership.objects.create(user=titulaire, pharmacy=pharmacy, function=Function.TITULAIRE)
    return pharmacy


def add_member(*, pharmacy: Pharmacy, user: User, function: str) -> Membership:
    """Add a user to a pharmacy with the given function."""
    if function not in Function.values:
        raise ValidationError({"function": _("Choose titulaire, adjoint or stagiaire.")})
    membership, created = Membership.objects.get_or_create(pharmacy=pharmacy, user=user, defaults={"function": function})
    if not created and membership.function != function:
        change_function(membership, function)
    return membership


@transaction.atomic
def change_function(membership: Membership, function: str) -> Membership:
    """Change a member's function; a pharmacy never loses its last titulaire."""
    if function not in Function.values:
        raise ValidationError({"function": _("Choose titulaire, adjoint or stagiaire.")})
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.function == Function.TITULAIRE and function != Function.TITULAIRE:
        _ensure_other_titulaire(locked)
    locked.function = function
    locked.save(update_fields=["function"])
    return locked


@transaction.atomic
def remove_member(membership: Membership) -> None:
    """Remove a member from a pharmacy; a pharmacy never loses its last titulaire."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.function == Function.TITULAIRE:
        _ensure_other_titulaire(locked)
    locked.delete()


def _ensure_other_titulaire(membership: Membership) -> None:
    others = (
        Membership.objects.select_for_update()
        .filter(pharmacy_id=membership.pharmacy_id, function=Function.TITULAIRE)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ValidationError(_("A pharmacy always keeps a titulaire: appoint another one first."))


def require_member(user: User, pharmacy: Pharmacy, functions=None) -> Membership:
    """The user's membership of the pharmacy, or PermissionDenied (optionally for given functions only)."""
    membership = Membership.objects.filter(user=user, pharmacy=pharmacy).first()
    if membership is None or (functions and membership.function not in functions):
        raise PermissionDenied
    return membership


# --- Provider accounts --------------------------------------------------------------------


def _owner(user: User | None, pharmacy: Pharmacy | None) -> dict:
    """A user's account (``user``), or a pharmacy's own (``pharmacy`` and no user)."""
    if user is not None:
        return {"user": user}
    if pharmacy is None:
        raise TypeError("A provider account belongs to a user or a pharmacy.")
    return {"pharmacy": pharmacy, "user": None}


def ensure_account(provider: str, *, user: User | None = None, pharmacy: Pharmacy | None = None, **defaults) -> ProviderAccount:
    """The user's (or pharmacy's) account at the provider, created pending when it has none."""
    account, _created = ProviderAccount.objects.get_or_create(provider=provider, **_owner(user, pharmacy), defaults=defaults)
    return account


def save_account(provider: str, *, user: User | None = None, pharmacy: Pharmacy | None = None, **fields) -> None:
    """Save changes to a user's (or pharmacy's) account at the provider in one statement; create it when missing."""
    owner = _owner(user, pharmacy)
    lookup = {"user": user} if user is not None else {"pharmacy": pharmacy, "user__isnull": True}
    if not ProviderAccount.objects.filter(provider=provider, **lookup).update(**fields, updated_at=timezone.now()):
        ProviderAccount.objects.create(provider=provider, **owner, **fields)


def activate_account(account: ProviderAccount, **fields) -> ProviderAccount:
    """Mark an account active (verified now), with its remote id or other changes; its secrets go unless given."""
    fields.setdefault("secrets", {})
    for name, value in fields.items():
        setattr(account, name, value)
    account.status = AccountStatus.ACTIVE
    account.status_detail = ""
    account.verified_at = timezone.now()
    if account.pk is None:
        account.save()
    else:
        account.save(update_fields=[*fields, "status", "status_detail", "verified_at", "updated_at"])
    return account


def lock_account(provider: str, *, pk: int | None = None, create: bool = False, **owner) -> ProviderAccount | None:
    """The account locked for update (in the caller's transaction): by ``pk``, or by owner (``user=`` or ``pharmacy=``).

    ``create``: an owner without an account at the provider gets a pending one.
    """
    accounts = ProviderAccount.objects.select_for_update().filter(provider=provider)
    if pk is not None:
        return accounts.filter(pk=pk).first()
    lookup = _owner(owner.get("user"), owner.get("pharmacy"))
    if create:
        account, _created = accounts.get_or_create(provider=provider, **lookup)
        return account
    return accounts.filter(**lookup).first()


def change_account(account: ProviderAccount, **fields) -> ProviderAccount:
    """Save changes to an account's own fields (status, status_detail, login, secrets, remote_id, verified_at)."""
    unknown = set(fields) - {"status", "status_detail", "login", "secrets", "remote_id", "verified_at"}
    if unknown:
        raise TypeError(f"Not an account field: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(account, name, value)
    account.save(update_fields=[*fields, "updated_at"])
    return account


def mark_account_if(pk: int, *, status_is: str, **fields) -> bool:
    """Change the account in one statement only while its status is ``status_is``; whether it did."""
    return bool(ProviderAccount.objects.filter(pk=pk, status=status_is).update(**fields, updated_at=timezone.now()))
