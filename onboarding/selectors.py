"""Read-only queries about pharmacies and their staff."""

from django.db.models import Prefetch, QuerySet

from .models import Membership, Pharmacy, ProviderAccount, User


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
