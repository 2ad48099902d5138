from django.apps import AppConfig


class BimedocConfig(AppConfig):
    name = "providers.bimedoc"
    label = "bimedoc"
    verbose_name = "Bimedoc"

    def ready(self):
        from .conf import conf

        conf.check_at_start_up()
