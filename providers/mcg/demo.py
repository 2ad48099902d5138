"""MCG's demo data for ``load_demo``: a service provider reaching the demo pharmacy, and a welcome in the inbox."""

import uuid

from .models import ServiceProvider

DEMO_API_SECRET = "demo-api-secret-not-for-production-0001"  # noqa: S105 - development data only
DEMO_PROVIDER_ID = 1001
DEMO_CLIENT_ID = "mcg-demo-clinic"
DEMO_SERVICE_TOKEN = uuid.UUID("6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80")


def load(*, titulaire, pharmacy) -> list[str]:
    from . import services
    from .schemas import ServiceCall

    provider = ServiceProvider.objects.filter(provider_id=DEMO_PROVIDER_ID).first()
    if provider is None:
        provider, _secret = services.create_service_provider(
            provider_id=DEMO_PROVIDER_ID,
            name="Clinique de démonstration",
            service_ids=[1],
            client_secret=DEMO_API_SECRET,
        )
        ServiceProvider.objects.filter(pk=provider.pk).update(client_id=DEMO_CLIENT_ID, service_token=DEMO_SERVICE_TOKEN)
        provider.refresh_from_db()
    services.link_pharmacies(provider, [pharmacy])
    if not provider.requests.filter(idempotency_key="demo-welcome").exists():
        call = ServiceCall(
            provider_id=provider.provider_id,
            service_token=provider.service_token,
            service_id=1,
            parameters={
                "destination": str(titulaire.public_id),
                "notification": {
                    "title": "Welcome to the portal",
                    "message": "Your inbox receives notifications, ads and coupons from service providers.",
                    "channel": "email",
                },
                "qr_code": {"data": "DEMO-COUPON-10", "title": "10% off your next order"},
            },
        )
        services.submit_service_request(provider, call, idempotency_key="demo-welcome")
    return [
        f"Service provider {DEMO_PROVIDER_ID}: client_id={DEMO_CLIENT_ID} client_secret={DEMO_API_SECRET} "
        f"service_token={DEMO_SERVICE_TOKEN} service_ids=[1]"
    ]
