from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class McgConfig(AppConfig):
    name = "providers.mcg"
    label = "mcg"
    verbose_name = _("Service providers")

    def ready(self):
        from providers import revocation

        from .conf import conf

        conf.check_at_start_up()

        from .selectors import CLIENT_ID_PREFIX, provider_token_state

        revocation.register_clients(CLIENT_ID_PREFIX, provider_token_state)

        from onboarding import registry

        registry.schedule("mcg-purge-expired-revocations", "providers.mcg.tasks.purge_expired_revocations", 3600.0)

        from . import demo

        registry.register_demo(registry.Demo("mcg", load=demo.load))
