"""Model fields whose database value is encrypted."""

import json

from django.db import models

from . import crypto


class EncryptedJSONField(models.TextField):
    """A dict of secrets, stored as one Fernet token; never shown in forms or admin."""

    description = "Encrypted JSON"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return json.loads(crypto.decrypt(value))

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(crypto.decrypt(value))

    def get_prep_value(self, value):
        if not value:
            return ""
        return crypto.encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))

    def value_to_string(self, obj):
        return "<encrypted>"
