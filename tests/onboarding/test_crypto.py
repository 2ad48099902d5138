import pytest
from cryptography.fernet import Fernet
from django.db import connection

from onboarding import crypto, services
from onboarding.models import Provider, ProviderAccount

pytestmark = pytest.mark.django_db


def test_secrets_are_encrypted_in_the_database_and_readable_through_the_model():
    user = services.register_staff(email="e@example.com", password=None)
    account = ProviderAccount.objects.create(provider=Provider.BIMEDOC, user=user, secrets={"jwt": "eyJ.secret-value"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM onboarding_provideraccount WHERE id = %s", [account.pk])
        raw = cursor.fetchone()[0]
    assert "secret-value" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert ProviderAccount.objects.get(pk=account.pk).secrets == {"jwt": "eyJ.secret-value"}


def test_key_rotation_old_values_still_decrypt_and_rotate_to_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    token = crypto.encrypt("sid-123")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert crypto.decrypt(token) == "sid-123"
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == "sid-123"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(token)


def test_empty_secrets_store_nothing():
    user = services.register_staff(email="n@example.com", password=None)
    account = ProviderAccount.objects.create(provider=Provider.EDIN, user=user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM onboarding_provideraccount WHERE id = %s", [account.pk])
        assert cursor.fetchone()[0] == ""
    assert ProviderAccount.objects.get(pk=account.pk).secrets == {}
