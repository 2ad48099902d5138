"""EDIN accounts kept the sentence shown to the pharmacy in ``status_detail``; they keep a code now."""

from django.db import migrations

# The sentences as they were stored (untranslated), and the code each one becomes.
SENTENCES = {
    "Checking the email and password with EDIN…": "checking",
    "EDIN refused this email and password. Check them and connect again.": "wrong_credentials",
    "EDIN wants a captcha after several failed sign-ins, which the portal cannot solve. "
    "Sign in once on EDIN's own site with this account, then press “Check again”.": "captcha_required",
    "EDIN could not be reached. Press “Check again” in a few minutes.": "unreachable",
    "EDIN refused the request. Check the email address and connect again.": "refused",
}


def sentences_to_codes(apps, schema_editor):
    ProviderAccount = apps.get_model("onboarding", "ProviderAccount")
    for sentence, code in SENTENCES.items():
        ProviderAccount.objects.filter(provider="edin", status_detail=sentence).update(status_detail=code)


def codes_to_sentences(apps, schema_editor):
    ProviderAccount = apps.get_model("onboarding", "ProviderAccount")
    for sentence, code in SENTENCES.items():
        ProviderAccount.objects.filter(provider="edin", status_detail=code).update(status_detail=sentence)


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0004_existing_users_email_addresses")]

    operations = [migrations.RunPython(sentences_to_codes, codes_to_sentences)]
