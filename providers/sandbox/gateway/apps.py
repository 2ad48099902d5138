from django.apps import AppConfig


class SandboxGatewayConfig(AppConfig):
    name = "providers.sandbox.gateway"
    label = "sandbox_gateway"
