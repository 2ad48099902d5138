"""Mobile Saúde's demo data for ``load_demo``: an integration client (development only)."""

from .models import IntegrationClient

DEMO_API_SECRET = "demo-api-secret-not-for-production-0001"  # noqa: S105 - development data only
DEMO_USUARIO = "mobilesaude-demo"


def load(*, titulaire, pharmacy) -> list[str]:
    from . import services

    if not IntegrationClient.objects.filter(usuario=DEMO_USUARIO).exists():
        services.create_client(usuario=DEMO_USUARIO, password=DEMO_API_SECRET)
    birth = titulaire.birth_date.isoformat() if titulaire.birth_date else "-"
    cpf = titulaire.cpf
    return [f"Mobile Saúde   usuario={DEMO_USUARIO} senha={DEMO_API_SECRET} (identifies CPF {cpf}, born {birth})"]
