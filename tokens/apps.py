from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    label = "tokens"
    verbose_name = "Access tokens"

    def ready(self):
        from .conf import conf

        conf.check_at_start_up()
