from django.apps import AppConfig


class BimedocConfig(AppConfig):
    name = "providers.bimedoc"
    label = "bimedoc"
