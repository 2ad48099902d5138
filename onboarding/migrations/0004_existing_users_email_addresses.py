"""Existing users get their email as their primary allauth address.

It counts as verified when they already proved it: invited colleagues and
imported titulaires, created without a password, who since set one through the
link emailed to them (their password is usable now).
"""

from django.db import migrations
from django.db.models import Q

ADD_COLLEAGUE = "bimedoc.add_colleague"
IMPORT_KEY_PREFIX = "import:"


def _proved_by_emailed_link(user, Job):
    if not user.password or user.password.startswith("!"):
        return False  # never set a password
    invited_or_imported = Q(kind=ADD_COLLEAGUE) & ~Q(requested_by_id=user.pk) | Q(idempotency_key__startswith=IMPORT_KEY_PREFIX)
    return Job.objects.filter(invited_or_imported, user_id=user.pk).exists()


def forwards(apps, schema_editor):
    User = apps.get_model("onboarding", "User")
    Job = apps.get_model("onboarding", "Job")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.exclude(email="").iterator():
        if EmailAddress.objects.filter(user_id=user.pk).exists():
            continue
        EmailAddress.objects.create(
            user_id=user.pk, email=user.email.lower(), primary=True, verified=_proved_by_emailed_link(user, Job)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0003_invitation"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
