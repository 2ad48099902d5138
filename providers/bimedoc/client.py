"""A typed client for Bimedoc's partner API (see seeds/bimedoc-partner-api.fr.txt).

Three calls: create a user (Partner header), create a pharmacy (the new user's
JWT), and get a single-use SSO token (Partner header). Every call goes through
``HttpTransport``, which times, redacts and records it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

import requests

from providers.http import (
    Conflict,
    HttpTransport,
    Recorder,
    build_session,
    field_errors_from,
    json_body,
    null_recorder,
    raise_for_status,
)

PROVIDER = "bimedoc"
# The seed asks for any value: Bimedoc locks the password of partner-created users.
PLACEHOLDER_PASSWORD = "12345"


@dataclass(frozen=True)
class NewUser:
    """A user to create; ``pharmacy`` is the remote pharmacy id when joining an existing pharmacy."""

    email: str
    first_name: str = ""
    last_name: str = ""
    mobile_number: str = ""
    rpps_number: str = ""
    gender: str = ""
    function: str = "titulaire"
    pharmacy: str | None = None

    def as_params(self) -> dict:
        params = {k: v for k, v in asdict(self).items() if v not in ("", None)}
        params["password"] = PLACEHOLDER_PASSWORD
        return params


@dataclass(frozen=True)
class CreatedUser:
    id: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class NewPharmacy:
    name: str
    phone_number: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""

    def as_params(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v != ""}


@dataclass(frozen=True)
class CreatedPharmacy:
    id: str
    name: str = ""


class BimedocClient:
    """Bimedoc's partner API over one pooled session, with a (connect, read) timeout on every call."""

    def __init__(
        self,
        *,
        base_url: str,
        partner_id: str,
        api_key: str,
        recorder: Recorder = null_recorder,
        timeout: tuple[float, float] = (3.05, 15.0),
        session: requests.Session | None = None,
        breaker=None,
        rate_limiter=None,
    ):
        self._partner_header = f"Partner {partner_id}:{api_key}"
        self._secrets = [api_key, self._partner_header]
        self.transport = HttpTransport(
            provider=PROVIDER,
            base_url=base_url,
            recorder=recorder,
            timeout=timeout,
            session=session or build_session(),
            breaker=breaker,
            rate_limiter=rate_limiter,
        )

    def create_user(self, user: NewUser) -> CreatedUser:
        """POST /auth/user/: create a user; returns its id and the JWT to create its pharmacy with."""
        body = self._post("create_user", "/auth/user/", user.as_params(), self._partner_header, ("id", "token"))
        return CreatedUser(id=str(body["id"]), token=str(body["token"]))

    def create_pharmacy(self, jwt: str, pharmacy: NewPharmacy) -> CreatedPharmacy:
        """POST /auth/pharmacy/ with the JWT of the user created first; that user is linked to it."""
        body = self._post("create_pharmacy", "/auth/pharmacy/", pharmacy.as_params(), f"JWT {jwt}", ("id",), [jwt])
        return CreatedPharmacy(id=str(body["id"]), name=str(body.get("name", "")))

    def create_sso_token(self, user_id: str) -> str:
        """POST /auth/ssoToken/: a single-use token, valid 120 s, to sign the user in to the app."""
        body = self._post("create_sso_token", "/auth/ssoToken/", {"user": user_id}, self._partner_header, ("token",))
        return str(body["token"])

    def _post(self, operation, path, params, authorization, required, extra_secrets=()):
        secrets = [*self._secrets, *extra_secrets]
        response = self.transport.send(
            operation, "POST", path, json=params, headers={"Authorization": authorization}, secrets=secrets
        )
        if response.status_code == 400:
            errors = field_errors_from(json_body(response))
            # Bimedoc answers a duplicate email with a field error (400), not a 409.
            if any("exist" in message for message in errors.get("email", [])):
                raise Conflict(
                    "Bimedoc already has a user with this email address.",
                    field_errors=errors,
                    provider=PROVIDER,
                    status_code=400,
                )
        raise_for_status(self.transport, response)
        body = json_body(response)
        if not isinstance(body, dict) or any(body.get(key) in (None, "") for key in required):
            raise self.transport.record_invalid_response(
                operation, "POST", path, response, f"answer without {', '.join(required)}", secrets
            )
        return body


def sso_url(app_url: str, pharmacy_id: str, sso_token: str) -> str:
    """Where to send the browser: ``<app>/sso/?pharmacy=<id>&sso_token=<token>``."""
    return f"{app_url.rstrip('/')}/sso/?{urlencode({'pharmacy': pharmacy_id, 'sso_token': sso_token})}"
