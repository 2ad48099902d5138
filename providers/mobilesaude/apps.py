from django.apps import AppConfig


class MobilesaudeConfig(AppConfig):
    name = "providers.mobilesaude"
    label = "mobilesaude"
