from django.apps import AppConfig


class MobilesaudeConfig(AppConfig):
    name = "providers.mobilesaude"
    label = "mobilesaude"
    verbose_name = "Mobile Saúde"

    def ready(self):
        from providers import revocation

        from .conf import conf

        conf.check_at_start_up()

        from .selectors import CLIENT_ID_PREFIX, client_token_state

        revocation.register_clients(CLIENT_ID_PREFIX, client_token_state)

        from onboarding import registry

        from . import demo

        registry.register_demo(registry.Demo("mobilesaude", load=demo.load))
