from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxEdinConfig(AppConfig):
    name = "providers.sandbox.edin"
    label = "sandbox_edin"
    verbose_name = _("Sandbox: EDIN")
