from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "providers.sandbox"
    label = "sandbox"
    verbose_name = _("Sandbox")

    def ready(self):
        from .conf import conf, edin

        conf.check_at_start_up()
        edin.check_at_start_up()
