from django.apps import AppConfig


class SandboxBimedocConfig(AppConfig):
    name = "providers.sandbox.bimedoc"
    label = "sandbox_bimedoc"
