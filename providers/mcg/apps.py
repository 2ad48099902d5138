from django.apps import AppConfig


class McgConfig(AppConfig):
    name = "providers.mcg"
    label = "mcg"
