from django.apps import AppConfig


class EdinConfig(AppConfig):
    name = "providers.edin"
    label = "edin"
    verbose_name = "EDIN"
