"""What the portal does for Mobile Saúde: authorize integration clients and identify users for them."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import tokens
from onboarding.models import Membership, User
from onboarding.validators import normalize_cpf
from providers import revocation

from . import selectors
from .conf import conf
from .models import IntegrationClient
from .throttling import SlidingWindow, address_identity

logger = logging.getLogger(__name__)

CLIENT_SCOPE = "mobilesaude"
USER_SCOPE = "user"
SUBJECT_PREFIX = selectors.CLIENT_ID_PREFIX
# How long an address that signed a usuario in successfully stays exempt from that
# usuario's lockout (its own per-address limit still applies): an attacker who makes
# a usuario's failures pile up cannot lock the real client out from where it works.
KNOWN_ADDRESS_TTL = 30 * 24 * 3600


class InvalidCredentials(Exception):
    """Unknown usuario, wrong senha or inactive client (never said which)."""


class Throttled(Exception):
    """Too many failed attempts; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class NotAuthorized(Exception):
    """The request does not carry a valid, current token of an active integration client."""


class InvalidIdentification(Exception):
    """The identification request cannot be read (e.g. a malformed date)."""


def _usuario_window() -> SlidingWindow:
    return SlidingWindow("usuario", conf.THROTTLE_FAILURES_PER_USUARIO, conf.THROTTLE_WINDOW)


def _address_window() -> SlidingWindow:
    return SlidingWindow("address", conf.THROTTLE_FAILURES_PER_ADDRESS, conf.THROTTLE_WINDOW)


def _client_window() -> SlidingWindow:
    return SlidingWindow("identification-client", conf.THROTTLE_FAILURES_PER_CLIENT, conf.THROTTLE_WINDOW)


def _cpf_window() -> SlidingWindow:
    return SlidingWindow("identification-cpf", conf.THROTTLE_FAILURES_PER_CPF, conf.THROTTLE_WINDOW)


def _known_address_key(usuario: str, address: str) -> str:
    digest = hashlib.sha256(f"{usuario}\n{address}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"mobilesaude:known-address:{digest}"


def authenticate_client(usuario: str, senha: str) -> IntegrationClient | None:
    """The active client with these credentials, or None; takes about as long either way."""
    client = IntegrationClient.objects.filter(usuario=usuario).first()
    if client is None:
        make_password(senha)  # the same hashing work as checking a real password
        return None
    if not client.check_password(senha) or not client.is_active:
        return None
    return client


def authorize_client(*, usuario: str, senha: str, address: str) -> tokens.IssuedToken:
    """Check an integration client's credentials, throttling failures; return its short-lived token."""
    address = address_identity(address)
    known_address = cache.get(_known_address_key(usuario, address)) is not None
    windows = [(_address_window(), address)] + ([] if known_address else [(_usuario_window(), usuario)])
    retry_after = _acquire(windows)
    if retry_after:
        logger.warning("Mobile Saúde sign-in throttled for %s (retry in %ss)", address, retry_after)
        raise Throttled(retry_after)
    client = authenticate_client(usuario, senha)
    if client is None:
        if known_address:
            _usuario_window().hit(usuario)
        logger.warning("Mobile Saúde sign-in failed from %s", address)
        raise InvalidCredentials
    _address_window().release(address)
    _usuario_window().reset(usuario)
    cache.set(_known_address_key(usuario, address), 1, timeout=KNOWN_ADDRESS_TTL)
    IntegrationClient.objects.filter(pk=client.pk).update(last_authorized_at=timezone.now())
    return issue_client_token(client)


def _acquire(windows: list[tuple[SlidingWindow, str]]) -> int:
    """Count an attempt on every window (increment, then compare); the wait when one is full, giving the others back."""
    acquired = []
    for window, identity in windows:
        retry_after = window.acquire(identity)
        if retry_after:
            for taken, taken_identity in acquired:
                taken.release(taken_identity)
            return retry_after
        acquired.append((window, identity))
    return 0


def issue_client_token(client: IntegrationClient) -> tokens.IssuedToken:
    """A token that lets this client call the identification endpoint."""
    subject = SUBJECT_PREFIX + client.usuario
    return tokens.issue(
        subject=subject,
        audience=tokens.conf.AUDIENCE,
        scope=CLIENT_SCOPE,
        client_id=subject,
        lifetime=conf.TOKEN_LIFETIME,
        extra={"gen": client.token_generation},
    )


def header_value(token: tokens.IssuedToken) -> str:
    """The value of the auth header carrying this token, with its scheme (the seed: "send the prefix")."""
    scheme = conf.AUTH_SCHEME
    return f"{scheme} {token.token}" if scheme else token.token


def client_for_header(value: str | None) -> IntegrationClient:
    """The active integration client whose token this header value carries; else NotAuthorized."""
    if not value:
        raise NotAuthorized("missing")
    scheme = conf.AUTH_SCHEME
    raw = value.strip()
    if scheme:
        given_scheme, _, raw = raw.partition(" ")
        if given_scheme.lower() != scheme.lower():
            raise NotAuthorized("scheme")
        raw = raw.strip()
    try:
        claims = tokens.verify(raw, audience=tokens.conf.AUDIENCE)
    except tokens.InvalidToken as exc:
        raise NotAuthorized(str(exc))
    subject = claims.get("sub")
    if (
        CLIENT_SCOPE not in str(claims.get("scope", "")).split()
        or not isinstance(subject, str)
        or not subject.startswith(SUBJECT_PREFIX)
        or claims.get("client_id") != subject
    ):
        raise NotAuthorized("not a Mobile Saúde client token")
    if revocation.is_revoked(claims):
        raise NotAuthorized("token revoked")
    client = selectors.active_client(subject.removeprefix(SUBJECT_PREFIX))
    if client is None:
        raise NotAuthorized("client unknown or inactive")
    return client


class ContactKind:
    EMAIL = 1
    MOBILE = 2


@dataclass(frozen=True)
class Contact:
    id: str
    value: str
    kind: int
    masked: str


@dataclass(frozen=True)
class Identification:
    user: User
    contacts: list[Contact]
    memberships: list[Membership]
    token: tokens.IssuedToken


def parse_birth_date(value: str) -> datetime.date:
    """A YYYY-MM-DD date, or InvalidIdentification."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-" or not (value[:4] + value[5:7] + value[8:]).isdigit():
        raise InvalidIdentification("date format")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidIdentification("date value")


def identify_user(*, client: IntegrationClient, cpf: str, birth_date: datetime.date) -> Identification | None:
    """The user with this CPF and date of birth, with contacts and a token for them; None when nobody matches.

    Failures are throttled per client and per CPF (Throttled): guessing dates of birth for one CPF,
    or CPFs from one client, stops after a few tries.
    """
    try:
        cpf = normalize_cpf(cpf)
    except ValidationError:
        cpf_identity = cpf.strip()
    else:
        cpf_identity = cpf
    windows = [(_client_window(), client.usuario), (_cpf_window(), cpf_identity)]
    retry_after = _acquire(windows)
    if retry_after:
        logger.warning("Mobile Saúde identification throttled for client %s (retry in %ss)", client.usuario, retry_after)
        raise Throttled(retry_after)
    identification = _identify(client=client, cpf=cpf, birth_date=birth_date)
    if identification is not None:
        for window, identity in windows:
            window.release(identity)
    return identification


def _identify(*, client: IntegrationClient, cpf: str, birth_date: datetime.date) -> Identification | None:
    if not cpf.isdigit() or len(cpf) != 11:
        return None
    user = selectors.identified_user(cpf=cpf, birth_date=birth_date)
    if user is None:
        return None
    contacts = contacts_of(user)
    if not contacts:  # the seed wants at least one; a user with none cannot be identified
        logger.warning("Mobile Saúde identification matched user %s, who has no contact on file", user.public_id)
        return None
    subject = SUBJECT_PREFIX + client.usuario
    token = tokens.issue(
        subject=str(user.public_id),
        audience=tokens.conf.AUDIENCE,
        scope=USER_SCOPE,
        client_id=subject,
        lifetime=conf.USER_TOKEN_LIFETIME,
        extra={"username": user.email, "gen": client.token_generation},
    )
    return Identification(user=user, contacts=contacts, memberships=selectors.memberships_of(user), token=token)


def contacts_of(user: User) -> list[Contact]:
    """The user's email (always) and mobile number (when on file), with their masked forms."""
    contacts = []
    if user.email.strip():
        contacts.append(Contact(id="email", value=user.email, kind=ContactKind.EMAIL, masked=mask_email(user.email)))
    if user.mobile_number.strip():
        number = mobile_contact(user.mobile_number)
        contacts.append(Contact(id="celular", value=number, kind=ContactKind.MOBILE, masked=mask_phone(number)))
    return contacts


def mobile_contact(e164: str) -> str:
    """A Brazilian number as its national digits (DDD + number, as the seed shows); others in E.164."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == "BR":
        return phonenumbers.national_significant_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_email(email: str) -> str:
    """``benef@gmail.com`` → ``b****f@g***.com`` (the seed's style; lengths hidden)."""
    local, _, domain = email.rpartition("@")
    if not local:
        return "****"
    masked_local = local[0] + "****" + (local[-1] if len(local) > 1 else "")
    first, dot, rest = domain.partition(".")
    masked_domain = (first[:1] + "***" + dot + rest) if first else "***"
    return f"{masked_local}@{masked_domain}"


def mask_phone(number: str) -> str:
    """``27997157620`` → ``279***76**`` (the seed's style); a leading ``+`` is kept."""
    plus = "+" if number.startswith("+") else ""
    digits = number.lstrip("+")
    if len(digits) < 7:
        return plus + "***"
    return f"{plus}{digits[:3]}***{digits[-4:-2]}**"


def set_client_active(client: IntegrationClient, active: bool) -> None:
    """Activate or deactivate a client; either way its tokens so far stop working in every process at once."""
    client.is_active = active
    client.save(update_fields=["is_active", "updated_at"])
    void_client_tokens(client)


def void_client_tokens(client: IntegrationClient) -> None:
    """Every token issued to the client (and to users for it) until now stops working."""
    IntegrationClient.objects.filter(pk=client.pk).update(token_generation=F("token_generation") + 1)
    client.refresh_from_db(fields=["token_generation"])
    revocation.client_changed(SUBJECT_PREFIX + client.usuario)


class ClientExists(Exception):
    """An integration client with this usuario already exists."""


def create_client(*, usuario: str, password: str) -> IntegrationClient:
    """Register an active integration client with this password (stored hashed)."""
    if not usuario or len(usuario) > IntegrationClient._meta.get_field("usuario").max_length:
        raise ValueError("The usuario must have between 1 and 150 characters.")
    client = IntegrationClient(usuario=usuario)
    client.set_password(password)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        raise ClientExists(usuario)
    return client
