from django.apps import AppConfig


class EdinConfig(AppConfig):
    name = "providers.edin"
    label = "edin"
    verbose_name = "EDIN"

    def ready(self):
        from onboarding import registry
        from providers import conf as outbound

        from . import panels
        from .conf import conf

        conf.check_at_start_up()
        outbound.check_at_start_up()
        registry.register_panel(panels.PANEL)
