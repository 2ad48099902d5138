"""Read-only queries about pharmacies and their staff."""

from allauth.account.models import EmailAddress
from django.db.models import Prefetch, QuerySet

from .models import Invitation, Membership, Pharmacy, ProviderAccount, User


def pharmacies_of(user: User) -> QuerySet[Pharmacy]:
    """The pharmacies the user is a member of."""
    return Pharmacy.objects.filter(memberships__user=user).distinct()


def membership_of(user: User, pharmacy: Pharmacy) -> Membership | None:
    return Membership.objects.filter(user=user, pharmacy=pharmacy).first()


def pharmacy_page(pharmacy_public_id, user: User) -> Pharmacy:
    """The pharmacy with members and accounts prefetched; only for its own members (else DoesNotExist)."""
    return (
        pharmacies_of(user)
        .prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("function", "user__email")),
            Prefetch("provider_accounts", queryset=ProviderAccount.objects.order_by("provider")),
        )
        .get(public_id=pharmacy_public_id)
    )


def email_verified(user: User) -> bool:
    """Whether the user proved they receive mail at their login address."""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def invitations_of(pharmacy: Pharmacy, limit: int = 20) -> list[Invitation]:
    """The pharmacy's latest invitations (open, answered or expired), for its titulaire."""
    return list(pharmacy.invitations.select_related("invited_by").order_by("-created_at")[:limit])
