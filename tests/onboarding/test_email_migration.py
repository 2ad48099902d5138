"""Users from before django-allauth: their email becomes their primary address, verified where they proved it."""

import importlib

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps

from onboarding.models import Job, Pharmacy, User

pytestmark = pytest.mark.django_db

migration = importlib.import_module("onboarding.migrations.0004_existing_users_email_addresses")


def test_existing_users_get_a_primary_address_verified_only_where_an_emailed_link_proved_it():
    titulaire = User.objects.create_user(email="titulaire@example.com", password="signed-Up-myself-42")
    invited = User.objects.create_user(email="invited@example.com", password=None)
    never_came = User.objects.create_user(email="never.came@example.com", password=None)
    imported = User.objects.create_user(email="imported@example.com", password=None)
    pharmacy = Pharmacy.objects.create(name="P")
    for user in (invited, never_came):
        Job.objects.create(kind="bimedoc.add_colleague", pharmacy=pharmacy, user=user, requested_by=titulaire)
    Job.objects.create(kind="bimedoc.onboard_pharmacy", user=imported, requested_by=imported, idempotency_key="import:abc")
    Job.objects.create(kind="bimedoc.onboard_pharmacy", user=titulaire, requested_by=titulaire, idempotency_key="wizard:1:x")
    # Since then, the invited and the imported person chose their password through the emailed link.
    for user in (invited, imported):
        user.set_password("chosen-Through-link-42")
        user.save()

    migration.forwards(apps, None)

    verified = dict(EmailAddress.objects.filter(primary=True).values_list("email", "verified"))
    assert verified == {
        "titulaire@example.com": False,
        "invited@example.com": True,
        "never.came@example.com": False,
        "imported@example.com": True,
    }
    migration.forwards(apps, None)  # idempotent
    assert EmailAddress.objects.count() == 4
