"""Load demo staff and a demo pharmacy (development only) and print the logins."""

import datetime
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from onboarding import services
from onboarding.models import Function, Pharmacy, User
from providers.mcg import services as mcg
from providers.mcg.models import ServiceProvider
from providers.mcg.schemas import ServiceCall
from providers.mobilesaude import services as mobilesaude
from providers.mobilesaude.models import IntegrationClient

DEMO_PASSWORD = "demo-pharmacy-2024"  # development data only; refused when DEBUG is off
DEMO_API_SECRET = "demo-api-secret-not-for-production-0001"  # noqa: S105 - development data only
DEMO_CPF = "54430070768"
DEMO_MS_USUARIO = "mobilesaude-demo"
DEMO_PROVIDER_ID = 1001
DEMO_CLIENT_ID = "mcg-demo-clinic"
DEMO_SERVICE_TOKEN = uuid.UUID("6f1d9c3e-8b1a-4c2e-9f3a-2d4b5c6e7f80")
DEMO_PEOPLE = [
    ("admin@demo.example", "Ada", "Admin", None),
    ("titulaire@demo.example", "Camille", "Martin", Function.TITULAIRE),
    ("adjoint@demo.example", "Lucas", "Bernard", Function.ADJOINT),
]


class Command(BaseCommand):
    help = "Load demo staff and a demo pharmacy, then print the demo logins (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development only (DJANGO_DEBUG is false).")
        with transaction.atomic():
            pharmacy = Pharmacy.objects.filter(name="Pharmacie de la Gare (demo)").first()
            for email, first, last, function in DEMO_PEOPLE:
                user = User.objects.filter(email=email).first()
                if user is None:
                    if function is None:
                        user = User.objects.create_superuser(
                            email=email, password=DEMO_PASSWORD, first_name=first, last_name=last
                        )
                    else:
                        user = services.register_staff(
                            email=email,
                            password=DEMO_PASSWORD,
                            first_name=first,
                            last_name=last,
                            mobile_number="+33612345678",
                            gender="f" if first == "Camille" else "m",
                        )
                # Demo logins are ready to use: their addresses count as verified.
                services.mark_email_verified(user)
                if function == Function.TITULAIRE and pharmacy is None:
                    pharmacy = services.create_pharmacy(
                        titulaire=user,
                        name="Pharmacie de la Gare (demo)",
                        phone_number="+33145678900",
                        street="1 place de la Gare",
                        city="Lyon",
                        postcode="69002",
                    )
                elif function is not None:
                    services.add_member(pharmacy=pharmacy, user=user, function=function)
            titulaire = User.objects.get(email="titulaire@demo.example")
            if not titulaire.cpf:
                services.update_profile(titulaire, cpf=DEMO_CPF, birth_date=datetime.date(1990, 5, 17))
            self._api_clients(titulaire, pharmacy)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for email, _first, _last, function in DEMO_PEOPLE:
            self.stdout.write(f"  {email:<28} {function or 'admin (Django admin at /admin/)'}")
        self.stdout.write(self.style.SUCCESS("Demo API clients (development only):"))
        self.stdout.write(
            f"  Mobile Saúde   usuario={DEMO_MS_USUARIO} senha={DEMO_API_SECRET} (identifies CPF {DEMO_CPF}, born 1990-05-17)"
        )
        self.stdout.write(
            f"  Service provider {DEMO_PROVIDER_ID}: client_id={DEMO_CLIENT_ID} client_secret={DEMO_API_SECRET} "
            f"service_token={DEMO_SERVICE_TOKEN} service_ids=[1]"
        )

    def _api_clients(self, titulaire, pharmacy):
        """A Mobile Saúde client and a service provider reaching the demo pharmacy, and a welcome in the titulaire's inbox."""
        if not IntegrationClient.objects.filter(usuario=DEMO_MS_USUARIO).exists():
            mobilesaude.create_client(usuario=DEMO_MS_USUARIO, password=DEMO_API_SECRET)
        provider = ServiceProvider.objects.filter(provider_id=DEMO_PROVIDER_ID).first()
        if provider is None:
            provider, _secret = mcg.create_service_provider(
                provider_id=DEMO_PROVIDER_ID,
                name="Clinique de démonstration",
                service_ids=[1],
                client_secret=DEMO_API_SECRET,
            )
            ServiceProvider.objects.filter(pk=provider.pk).update(client_id=DEMO_CLIENT_ID, service_token=DEMO_SERVICE_TOKEN)
            provider.refresh_from_db()
        mcg.link_pharmacies(provider, [pharmacy])
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
            mcg.submit_service_request(provider, call, idempotency_key="demo-welcome")
