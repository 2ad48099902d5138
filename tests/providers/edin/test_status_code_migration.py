"""EDIN accounts from before status codes: the sentence kept in status_detail becomes its code, and back."""

import importlib

import pytest
from django.apps import apps

from onboarding.models import AccountStatus, Pharmacy, ProviderAccount
from providers.edin import services

pytestmark = pytest.mark.django_db

migration = importlib.import_module("providers.edin.migrations.0001_status_detail_codes")


def test_stored_sentences_become_codes_and_the_state_reads_the_same():
    pharmacies = [Pharmacy.objects.create(name=f"P{i}") for i in range(3)]
    captcha = ProviderAccount.objects.create(
        provider="edin", pharmacy=pharmacies[0], status=AccountStatus.NEEDS_ATTENTION, status_detail=next(
            s for s, code in migration.SENTENCES.items() if code == services.Detail.CAPTCHA
        ),
    )
    unreachable = ProviderAccount.objects.create(
        provider="edin", pharmacy=pharmacies[1], status=AccountStatus.NEEDS_ATTENTION, status_detail=next(
            s for s, code in migration.SENTENCES.items() if code == services.Detail.UNREACHABLE
        ),
    )
    # Another provider's sentence is not EDIN's to change.
    other = ProviderAccount.objects.create(
        provider="bimedoc", pharmacy=pharmacies[2], status=AccountStatus.FAILED, status_detail=captcha.status_detail
    )

    migration.sentences_to_codes(apps, None)

    captcha.refresh_from_db(), unreachable.refresh_from_db(), other.refresh_from_db()
    assert (captcha.status_detail, unreachable.status_detail) == ("captcha_required", "unreachable")
    assert other.status_detail.startswith("EDIN wants a captcha")
    state = services.connection_state(captcha)
    assert state.code == "captcha_required" and state.detail.startswith("EDIN wants a captcha")
    assert services.connection_state(unreachable).code == "unreachable"

    migration.codes_to_sentences(apps, None)
    captcha.refresh_from_db()
    assert captcha.status_detail.startswith("EDIN wants a captcha")


def test_every_code_has_a_sentence_and_every_old_sentence_a_code():
    codes = {v for k, v in vars(services.Detail).items() if not k.startswith("_")}
    assert set(services.DETAIL_MESSAGES) == codes == set(migration.SENTENCES.values())
    assert {str(m) for m in services.DETAIL_MESSAGES.values()} == set(migration.SENTENCES)
