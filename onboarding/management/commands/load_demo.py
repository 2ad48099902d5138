"""Load demo staff and a demo pharmacy, with what each provider adds to it (development only), and print how to start."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from onboarding import registry, services
from onboarding.models import Function, Pharmacy, User

DEMO_PASSWORD = "demo-pharmacy-2024"  # development data only; refused when DEBUG is off
DEMO_CPF = "54430070768"
DEMO_PEOPLE = [
    ("admin@demo.example", "Ada", "Admin", None),
    ("titulaire@demo.example", "Camille", "Martin", Function.TITULAIRE),
    ("adjoint@demo.example", "Lucas", "Bernard", Function.ADJOINT),
]


class Command(BaseCommand):
    help = (
        "Load demo staff and a demo pharmacy with what each provider adds (API clients, the pharmacy on Bimedoc "
        "through the sandbox, reached in-process), then print the demo logins and what to click first (development only)."
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
            # What each provider adds to the demo (API clients, inbox content), as it registered it.
            lines = [line for demo in registry.demos() if demo.load for line in demo.load(titulaire=titulaire, pharmacy=pharmacy)]
        steps = []
        for demo in registry.demos():
            if demo.after:
                notes, more = demo.after(titulaire=titulaire, pharmacy=pharmacy)
                for note in notes:
                    self.stdout.write(note)
                steps += more
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for email, _first, _last, function in DEMO_PEOPLE:
            self.stdout.write(f"  {email:<28} {function or 'admin (Django admin at /admin/)'}")
        if lines:
            self.stdout.write(self.style.SUCCESS("Demo API clients (development only):"))
            for line in lines:
                self.stdout.write(f"  {line}")
        base = (url or settings.PUBLIC_BASE_URL).rstrip("/")
        steps = [
            f"Open {base}/accounts/login/ and log in as titulaire@demo.example / {DEMO_PASSWORD}",
            f'Open the pharmacy "{pharmacy.name}" ({base}{pharmacy.get_absolute_url()})',
            *steps,
        ]
        self.stdout.write(self.style.SUCCESS("Click first:"))
        for number, step in enumerate(steps, 1):
            self.stdout.write(f"  {number}. {step}")
        self.stdout.write(f"  Django admin: {base}/admin/ as admin@demo.example / {DEMO_PASSWORD}")
