"""POST /integrations/mobilesaude/recuperarSenhaIdentificacao: CPF + date of birth → the user, contacts and a token."""

import time

import pytest

import tokens
from onboarding import services as onboarding
from providers.mobilesaude import services
from providers.mobilesaude.conf import conf as mobilesaude_conf
from providers.mobilesaude.models import IntegrationClient

from .conftest import BIRTH_DATE, CPF, CPF_PUNCTUATED, USUARIO
from .seed_rules import check_failure, check_identificacao_success

NOT_FOUND = {"mensagem": "Beneficiário não encontrado"}


@pytest.mark.parametrize("cpf", [CPF, CPF_PUNCTUATED, " 544.300.707-68 "], ids=["digits", "punctuated", "spaces"])
def test_a_matching_user_is_identified(pharmacist, client_header, post_json, cpf):
    response = post_json("identificacao", {"cpf": cpf, "dataNascimento": BIRTH_DATE}, **client_header)

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    answer = response.json()
    check_identificacao_success(answer)
    assert answer["chaveUnica"] == str(pharmacist.public_id)
    assert answer["contatos"] == [
        {"id": "email", "contato": "beneficiaria@gmail.com", "tipo": 1, "ofuscado": "b****a@g***.com"},
        {"id": "celular", "contato": "27997157620", "tipo": 2, "ofuscado": "279***76**"},
    ]
    [pharmacy] = pharmacist.pharmacies.all()
    assert answer["integracao"] == {
        "nome": "Ana Souza",
        "farmacias": [{"id": str(pharmacy.public_id), "nome": "Farmácia Central", "funcao": "titulaire"}],
    }


def test_the_user_token_identifies_the_user_and_the_client(pharmacist, client_header, post_json):
    before = time.time()
    answer = post_json("identificacao", {"cpf": CPF, "dataNascimento": BIRTH_DATE}, **client_header).json()

    [auth] = answer["seguranca"]["auth"]
    assert auth["chave"] == mobilesaude_conf.AUTH_HEADER
    assert auth["token"].startswith("Bearer ")
    claims = tokens.verify(auth["token"].removeprefix("Bearer "), audience=tokens.conf.AUDIENCE)
    assert claims["sub"] == str(pharmacist.public_id)
    assert claims["client_id"] == f"mobilesaude:{USUARIO}"
    assert claims["scope"] == "user"
    assert claims["username"] == pharmacist.email
    assert auth["expiracao"] == claims["exp"] * 1000
    assert (before + mobilesaude_conf.USER_TOKEN_LIFETIME - 5) * 1000 <= auth["expiracao"]


def test_a_user_without_mobile_number_has_only_the_email_contact(db, client_header, post_json):
    user = onboarding.register_staff(
        email="x@farmacia.com.br", password="pw-long-enough-1", cpf="52998224725", birth_date="1980-01-31"
    )
    answer = post_json("identificacao", {"cpf": "529.982.247-25", "dataNascimento": "1980-01-31"}, **client_header).json()

    check_identificacao_success(answer)
    assert answer["chaveUnica"] == str(user.public_id)
    assert answer["contatos"] == [{"id": "email", "contato": "x@farmacia.com.br", "tipo": 1, "ofuscado": "x****@f***.com.br"}]
    assert answer["integracao"] == {"nome": "x@farmacia.com.br", "farmacias": []}


def test_a_non_brazilian_mobile_number_is_given_in_e164(db, client_header, post_json):
    onboarding.register_staff(
        email="marie@pharmacie.fr",
        password="pw-long-enough-1",
        cpf="52998224725",
        birth_date="1980-01-31",
        mobile_number="+33612345678",
    )
    answer = post_json("identificacao", {"cpf": "52998224725", "dataNascimento": "1980-01-31"}, **client_header).json()

    assert answer["contatos"][1] == {"id": "celular", "contato": "+33612345678", "tipo": 2, "ofuscado": "+336***56**"}


@pytest.mark.parametrize(
    "cpf, birth_date",
    [
        (CPF, "1993-08-06"),  # wrong date
        ("52998224725", BIRTH_DATE),  # valid CPF of nobody
        ("54430070769", BIRTH_DATE),  # check digit wrong
        ("544300707", BIRTH_DATE),  # too short
        ("abc", BIRTH_DATE),
        ("00000000000", BIRTH_DATE),  # repeated digits are not a CPF
    ],
    ids=["wrong-date", "unknown-cpf", "bad-check-digit", "short", "letters", "repeated-digits"],
)
def test_no_match_gets_the_same_not_found_answer(pharmacist, client_header, post_json, cpf, birth_date):
    response = post_json("identificacao", {"cpf": cpf, "dataNascimento": birth_date}, **client_header)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    check_failure(response.json())


def test_a_user_with_no_contact_on_file_is_not_found(pharmacist, client_header, post_json):
    # The email is required by the user model; only a direct update can blank it.
    type(pharmacist).objects.filter(pk=pharmacist.pk).update(email="", mobile_number="")

    response = post_json("identificacao", {"cpf": CPF, "dataNascimento": BIRTH_DATE}, **client_header)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_an_inactive_user_is_not_found(pharmacist, client_header, post_json):
    pharmacist.is_active = False
    pharmacist.save(update_fields=["is_active"])

    response = post_json("identificacao", {"cpf": CPF, "dataNascimento": BIRTH_DATE}, **client_header)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("birth_date", ["05/08/1993", "1993-8-5", "19930805", "1993-02-30", "1993-08-05T00:00:00"])
def test_a_malformed_date_is_a_clear_bad_request(pharmacist, client_header, post_json, birth_date):
    response = post_json("identificacao", {"cpf": CPF, "dataNascimento": birth_date}, **client_header)

    assert response.status_code == 400
    assert "AAAA-MM-DD" in response.json()["mensagem"]


# --- The header from /autorizacao ------------------------------------------------------


def _identify(post_json, **headers):
    return post_json("identificacao", {"cpf": CPF, "dataNascimento": BIRTH_DATE}, **headers)


def _assert_unauthorized(response):
    assert response.status_code == 401
    check_failure(response.json())
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_header_is_unauthorized(pharmacist, post_json):
    response = _identify(post_json)
    _assert_unauthorized(response)
    assert "ausente" in response.json()["mensagem"]


def _client_token(**overrides):
    claims = dict(
        subject=f"mobilesaude:{USUARIO}",
        audience=tokens.conf.AUDIENCE,
        scope="mobilesaude",
        client_id=f"mobilesaude:{USUARIO}",
    )
    claims.update(overrides)
    return tokens.issue(**claims).token


def test_an_expired_token_is_unauthorized(integration_client, pharmacist, post_json):
    token = _client_token(lifetime=-60)  # expired a minute ago, well past the leeway
    _assert_unauthorized(_identify(post_json, Authorization=f"Bearer {token}"))


def test_a_forged_signature_is_unauthorized(integration_client, pharmacist, post_json):
    header, payload, signature = _client_token().split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    _assert_unauthorized(_identify(post_json, Authorization=f"Bearer {forged}"))


def test_a_token_signed_by_another_key_is_unauthorized(integration_client, pharmacist, post_json):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    genuine = tokens.verify(_client_token(), audience=tokens.conf.AUDIENCE)
    kid = tokens.key_ring().current.kid
    other = jwt.encode(genuine, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})
    _assert_unauthorized(_identify(post_json, Authorization=f"Bearer {other}"))


def test_an_unsigned_alg_none_token_is_unauthorized(integration_client, pharmacist, post_json):
    import jwt

    claims = tokens.verify(_client_token(), audience=tokens.conf.AUDIENCE)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": tokens.key_ring().current.kid})
    _assert_unauthorized(_identify(post_json, Authorization=f"Bearer {unsigned}"))


def test_a_token_for_another_audience_is_unauthorized(integration_client, pharmacist, post_json):
    token = _client_token(audience="urn:somebody-else")
    _assert_unauthorized(_identify(post_json, Authorization=f"Bearer {token}"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"scope": "user"},
        {"scope": "services"},
        {"subject": "mcg:42", "client_id": "mcg:42"},
        {"client_id": "mobilesaude:someone-else"},
    ],
    ids=["user-scope", "other-scope", "other-client-kind", "mismatched-client"],
)
def test_a_token_that_is_not_a_mobilesaude_client_token_is_unauthorized(integration_client, pharmacist, post_json, overrides):
    token = _client_token(**overrides)
    _assert_unauthorized(_identify(post_json, Authorization=f"Bearer {token}"))


def test_the_user_token_cannot_be_used_to_identify_users(pharmacist, client_header, post_json):
    answer = _identify(post_json, **client_header).json()
    user_header = {answer["seguranca"]["auth"][0]["chave"]: answer["seguranca"]["auth"][0]["token"]}
    _assert_unauthorized(_identify(post_json, **user_header))


def test_a_deactivated_client_token_stops_working(integration_client, pharmacist, client_header, post_json):
    assert _identify(post_json, **client_header).status_code == 200
    IntegrationClient.objects.filter(pk=integration_client.pk).update(is_active=False)
    _assert_unauthorized(_identify(post_json, **client_header))


@pytest.mark.parametrize("value", ["{token}", "JWT {token}", "Bearer", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c"])
def test_a_malformed_header_is_unauthorized(integration_client, pharmacist, post_json, value):
    response = _identify(post_json, Authorization=value.format(token=_client_token()))
    _assert_unauthorized(response)
    assert "inválido" in response.json()["mensagem"]


def test_authorization_is_checked_before_the_body(pharmacist, post_json):
    response = post_json("identificacao", b"not json")
    _assert_unauthorized(response)


# --- Masking in the seed's style ---------------------------------------------------------


@pytest.mark.parametrize(
    "email, masked",
    [
        ("benef@gmail.com", "b****f@g***.com"),
        ("a@x.com", "a****@x***.com"),
        ("joao.silva@outlook.com.br", "j****a@o***.com.br"),
    ],
)
def test_email_masking(email, masked):
    assert services.mask_email(email) == masked


@pytest.mark.parametrize(
    "number, masked",
    [("27997157620", "279***76**"), ("+33612345678", "+336***56**"), ("123", "***")],
)
def test_phone_masking(number, masked):
    assert services.mask_phone(number) == masked
