"""Reads for the Mobile Saúde endpoints."""

from __future__ import annotations

import datetime

from onboarding.models import Membership, User

from .models import IntegrationClient


def active_client(usuario: str) -> IntegrationClient | None:
    """The active integration client with this usuario, if any."""
    return IntegrationClient.objects.filter(usuario=usuario, is_active=True).first()


def identified_user(*, cpf: str, birth_date: datetime.date) -> User | None:
    """The active portal user with this CPF (11 digits) and date of birth, if any."""
    if not cpf:
        return None
    return User.objects.filter(cpf=cpf, birth_date=birth_date, is_active=True).first()


def memberships_of(user: User) -> list[Membership]:
    """The user's pharmacies, as memberships (with the pharmacy loaded)."""
    return list(Membership.objects.filter(user=user).select_related("pharmacy").order_by("pharmacy__name", "pk"))
