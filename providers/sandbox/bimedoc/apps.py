from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxBimedocConfig(AppConfig):
    name = "providers.sandbox.bimedoc"
    label = "sandbox_bimedoc"
    verbose_name = _("Sandbox: Bimedoc")
