from django.apps import AppConfig


class SandboxEdinConfig(AppConfig):
    name = "providers.sandbox.edin"
    label = "sandbox_edin"
