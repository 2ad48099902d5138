from django.apps import AppConfig


class ExampleProviderConfig(AppConfig):
    name = "tests.example_provider"
    label = "example_provider"

    def ready(self):
        from .jobs import register

        register()
