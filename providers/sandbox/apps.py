from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "providers.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox"

    def ready(self):
        from .conf import conf, edin

        conf.check_at_start_up()
        edin.check_at_start_up()
