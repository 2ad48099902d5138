from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxGatewayConfig(AppConfig):
    name = "providers.sandbox.gateway"
    label = "sandbox_gateway"
    verbose_name = _("Sandbox: delivery gateway")
