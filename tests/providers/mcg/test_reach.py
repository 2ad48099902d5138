"""A provider reaches only the active members of its pharmacies, ads only with opt-in; replays and floods are refused (HTTP)."""

import json

import pytest
import requests
from django.core import mail

from onboarding import services as onboarding_services
from providers.mcg import services
from providers.mcg.models import DeliveryAttempt, InboxItem, ServiceRequest
from tests.conftest import screenshot

from .conftest import Provider, png_base64, reach

PASSWORD = "a-long-Pass-phrase-42"


@pytest.fixture
def api(live_server, transactional_db):
    """POST /Services over HTTP with a provider's token."""

    def post(provider, destination, idempotency_key=None, **parameters):
        parameters = parameters or {"notification": {"title": "Rappel", "message": "Lundi 9:15", "channel": "email"}}
        body = {
            "provider_id": provider.provider_id,
            "service_token": provider.service_token,
            "service_id": provider.model.service_ids[0],
            "parameters": {"destination": str(getattr(destination, "public_id", destination)), **parameters},
        }
        headers = {"Authorization": f"Bearer {provider.token()}", "Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return requests.post(f"{live_server.url}/Services", data=json.dumps(body), headers=headers, timeout=10)

    return post


@pytest.fixture
def clinic(transactional_db):
    return Provider(*services.create_service_provider(provider_id=301, name="Clinique", service_ids=[1]))


def _member(email, pharmacy_name=None):
    user = onboarding_services.register_staff(email=email, password=PASSWORD, first_name=email.split("@")[0])
    onboarding_services.create_pharmacy(titulaire=user, name=pharmacy_name or f"Pharmacie {email}")
    return user


AD = {"advertisement": {"title": "Promo", "message": "-20 %", "channel": "FCM", "picture": png_base64()}}


def test_every_destination_it_may_not_reach_gets_the_same_404_and_nothing_is_stored_or_sent(api, clinic):
    reached = _member("reached@example.com")
    reach(clinic, reached, ads=False)
    unlinked = _member("elsewhere@example.com")
    inactive = _member("gone@example.com")
    reach(clinic, inactive)
    inactive.is_active = False
    inactive.save()
    muted = _member("muted@example.com")
    reach(clinic, muted)
    services.set_sender_preference(muted, clinic.model, muted=True)

    answers = [
        api(clinic, "6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80"),  # nobody has this id
        api(clinic, inactive),
        api(clinic, unlinked),
        api(clinic, muted),
        api(clinic, reached, **AD),  # reached, but never opted in to its ads
    ]
    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.content for a in answers}) == 1
    assert not ServiceRequest.objects.exists() and not InboxItem.objects.exists()
    assert not DeliveryAttempt.objects.exists() and not mail.outbox

    # The same provider does reach its own pharmacy's member with a notification.
    assert api(clinic, reached).status_code == 201


def test_advertisements_need_the_users_opt_in(api, clinic):
    user = _member("claire@example.com")
    reach(clinic, user, ads=False)
    assert api(clinic, user, **AD).status_code == 404
    services.set_sender_preference(user, clinic.model, accepts_ads=True)
    assert api(clinic, user, **AD).status_code == 201
    assert InboxItem.objects.get().kind == "advertisement"


def test_a_provider_reaching_every_pharmacy_reaches_any_member_but_not_a_user_without_one(api, transactional_db):
    created = services.create_service_provider(provider_id=302, name="Partout", service_ids=[1], all_pharmacies=True)
    everywhere = Provider(*created)
    member = _member("member@example.com")
    loner = onboarding_services.register_staff(email="loner@example.com", password=PASSWORD, first_name="Lone")
    assert api(everywhere, member).status_code == 201
    assert api(everywhere, loner).status_code == 404


def test_a_replayed_idempotency_key_answers_409_whatever_the_destination(api, clinic):
    user = _member("claire@example.com")
    reach(clinic, user)
    assert api(clinic, user, idempotency_key="order-1").status_code == 201
    for destination in ("6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80", _member("other@example.com"), user):
        replay = api(clinic, destination, idempotency_key="order-1")
        assert replay.status_code == 409
    assert ServiceRequest.objects.count() == 1


def test_services_are_rate_limited_per_provider(api, clinic, settings):
    settings.MCG_SERVICES_RATE_LIMIT = "3/minute"
    other = Provider(*services.create_service_provider(provider_id=303, name="Autre", service_ids=[1]))
    user = _member("claire@example.com")
    reach(clinic, user)
    reach(other, user)
    assert [api(clinic, user).status_code for _ in range(3)] == [201] * 3
    limited = api(clinic, user)
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert ServiceRequest.objects.filter(provider=clinic.model).count() == 3
    # Another provider has its own allowance.
    assert api(other, user).status_code == 201


@pytest.mark.browser
def test_staff_opt_in_to_a_senders_ads_and_mute_it_from_the_inbox(page, api, clinic):
    user = _member("claire@example.com", "Pharmacie du Port")
    reach(clinic, user, ads=False)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/inbox/")
    sender = page.locator(".sender", has_text="Clinique")
    ads = sender.get_by_label("Receive their advertisements")
    assert not ads.is_checked()
    assert api(clinic, user, **AD).status_code == 404

    ads.check()
    sender.get_by_role("button", name="Save").click()
    page.get_by_text("Your choices for Clinique are saved.").wait_for()
    assert page.locator(".sender", has_text="Clinique").get_by_label("Receive their advertisements").is_checked()
    assert api(clinic, user, **AD).status_code == 201
    screenshot(page, "mcg-inbox-senders")

    page.locator(".sender", has_text="Clinique").get_by_label("Mute this sender").check()
    page.locator(".sender", has_text="Clinique").get_by_role("button", name="Save").click()
    page.get_by_text("Your choices for Clinique are saved.").wait_for()
    assert api(clinic, user).status_code == 404


def test_only_a_sender_that_reaches_the_user_can_be_set(client, clinic):
    user = _member("claire@example.com")
    client.force_login(user)
    assert client.post(f"/inbox/senders/{clinic.provider_id}/", {"accepts_ads": "on"}).status_code == 404
    reach(clinic, user, ads=False)
    assert client.post(f"/inbox/senders/{clinic.provider_id}/", {"accepts_ads": "on"}).status_code == 302
    assert user.sender_preferences.get().accepts_ads
