"""Load demo staff and a demo pharmacy on Bimedoc (development only) and print the logins and what to click first."""

import contextlib
import datetime
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from onboarding import services
from onboarding.models import Function, Job, JobStatus, Pharmacy, User
from providers.bimedoc import services as bimedoc
from providers.mcg import services as mcg
from providers.mcg.models import ServiceProvider
from providers.mcg.schemas import ServiceCall
from providers.mobilesaude import services as mobilesaude
from providers.mobilesaude.models import IntegrationClient
from providers.sandbox import inprocess

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
    help = (
        "Load demo staff and a demo pharmacy, put the pharmacy and its titulaire and adjoint on Bimedoc "
        "(the sandbox, reached in-process), then print the demo logins and what to click first (development only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="Where the portal will be served (default: PUBLIC_BASE_URL).")

    def handle(self, *args, url="", **options):
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
        on_bimedoc = self._bimedoc(pharmacy)
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
        base = (url or settings.PUBLIC_BASE_URL).rstrip("/")
        self.stdout.write(self.style.SUCCESS("Click first:"))
        self.stdout.write(f"  1. Open {base}/accounts/login/ and log in as titulaire@demo.example / {DEMO_PASSWORD}")
        self.stdout.write(f"  2. Open the pharmacy \"{pharmacy.name}\" ({base}{pharmacy.get_absolute_url()})")
        if on_bimedoc:
            self.stdout.write("  3. Click \"Open Bimedoc\": you land signed in on Bimedoc (the sandbox app).")
        else:
            self.stdout.write("  3. Click \"Put the pharmacy on Bimedoc\", then \"Open Bimedoc\" once its job is done.")
        self.stdout.write(f"  Django admin: {base}/admin/ as admin@demo.example / {DEMO_PASSWORD}")

    def _bimedoc(self, pharmacy) -> bool:
        """Put the demo pharmacy, its titulaire and its adjoint on Bimedoc through the portal's own jobs.

        Before the server is up, the sandbox answers in-process; a Bimedoc that is
        not the sandbox is called over HTTP as usual. Returns whether the titulaire
        can open Bimedoc now.
        """
        titulaire = User.objects.get(email="titulaire@demo.example")
        adjoint = User.objects.get(email="adjoint@demo.example")
        in_process = settings.SANDBOX_ENABLED and settings.BIMEDOC_BASE_URL.startswith(settings.SANDBOX_URL + "/")
        session = bimedoc.client().transport.session
        with inprocess.mounted(session) if in_process else contextlib.nullcontext():
            remote = bimedoc.pharmacy_account(pharmacy)
            if remote is None or not remote.is_active:
                job = bimedoc.start_pharmacy_onboarding(pharmacy=pharmacy, by=titulaire)
                if job.status == JobStatus.FAILED:  # e.g. the last load_demo could not reach Bimedoc
                    job = bimedoc.retry_job(job, by=titulaire)
                self._report(job)
            account = bimedoc.user_account(adjoint)
            remote = bimedoc.pharmacy_account(pharmacy)
            if remote is not None and remote.is_active and (account is None or not account.remote_id):
                job = Job.objects.filter(kind=bimedoc.KIND_ADD_COLLEAGUE, user=adjoint, pharmacy=pharmacy).first()
                if job is None:
                    job = bimedoc.start_colleague_job(
                        pharmacy=pharmacy,
                        user=adjoint,
                        function=Function.ADJOINT,
                        requested_by=titulaire,
                        details={k: getattr(adjoint, k) for k in bimedoc.PERSON_FIELDS},
                    )
                elif job.status == JobStatus.FAILED:
                    job = bimedoc.retry_job(job, by=titulaire)
                self._report(job)
        ready = bimedoc.is_linked(titulaire, pharmacy) and bimedoc.pharmacy_account(pharmacy).is_active
        if ready:
            self.stdout.write(self.style.SUCCESS(f"{pharmacy.name} is on Bimedoc (sandbox) with its titulaire and adjoint."))
        return ready

    def _report(self, job) -> None:
        """Say so when a demo job did not finish here (queued on the workers, or failed)."""
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            detail = f": {job.error}" if job.error else ""
            self.stdout.write(self.style.WARNING(f"Bimedoc job for {job.user.email}: {job.get_status_display()}{detail}"))

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
