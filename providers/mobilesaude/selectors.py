"""Reads for the Mobile Saúde endpoints."""

from __future__ import annotations

import datetime

from onboarding.models import Membership, User
from providers.revocation import ClientState

from .models import IntegrationClient

# The OAuth client id (and subject) of an integration client's tokens: this prefix and its usuario.
CLIENT_ID_PREFIX = "mobilesaude:"


def active_client(usuario: str) -> IntegrationClient | None:
    """The active integration client with this usuario, if any."""
    return IntegrationClient.objects.filter(usuario=usuario, is_active=True).first()


def client_token_state(client_id: str) -> ClientState | None:
    """Whether the integration client behind a token's client id is active, and its token generation."""
    row = (
        IntegrationClient.objects.filter(usuario=client_id.removeprefix(CLIENT_ID_PREFIX))
        .values_list("is_active", "token_generation")
        .first()
    )
    return ClientState(*row) if row else None


def identified_user(*, cpf: str, birth_date: datetime.date) -> User | None:
    """The active portal user with this CPF (11 digits) and date of birth, if any."""
    if not cpf:
        return None
    return User.objects.filter(cpf=cpf, birth_date=birth_date, is_active=True).first()


def memberships_of(user: User) -> list[Membership]:
    """The user's pharmacies, as memberships (with the pharmacy loaded)."""
    return list(Membership.objects.filter(user=user).select_related("pharmacy").order_by("pharmacy__name", "pk"))
