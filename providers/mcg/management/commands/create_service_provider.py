"""Register a service provider and print, as one JSON object, what to hand over to it."""

import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from onboarding.models import Pharmacy
from providers.mcg import services


class Command(BaseCommand):
    help = "Register a service provider; prints its credentials (the client secret is shown only here)."

    def add_arguments(self, parser):
        parser.add_argument("--provider-id", type=int, required=True, help="The provider's int64 id.")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--service-id", type=int, action="append", default=[], dest="service_ids", help="A service it may call (repeat)."
        )
        reach = parser.add_mutually_exclusive_group()
        reach.add_argument(
            "--pharmacy",
            action="append",
            default=[],
            dest="pharmacies",
            metavar="PHARMACY_PUBLIC_ID",
            help="A pharmacy whose active members it may reach (repeat).",
        )
        reach.add_argument("--all-pharmacies", action="store_true", help="It may reach the members of every pharmacy.")

    def handle(self, *args, provider_id, name, service_ids, pharmacies, all_pharmacies, **options):
        if not -(2**63) <= provider_id < 2**63:
            raise CommandError("--provider-id must fit in 64 bits.")
        if not name.strip():
            raise CommandError("--name must not be blank.")
        linked = self._pharmacies(pharmacies)
        try:
            with transaction.atomic():
                provider, secret = services.create_service_provider(
                    provider_id=provider_id,
                    name=name.strip(),
                    service_ids=service_ids,
                    pharmacies=linked,
                    all_pharmacies=all_pharmacies,
                )
        except IntegrityError:
            raise CommandError(f"A service provider with id {provider_id} already exists.")
        handover = {
            "provider_id": provider.provider_id,
            "name": provider.name,
            "client_id": provider.client_id,
            "client_secret": secret,
            "service_token": str(provider.service_token),
            "service_ids": provider.service_ids,
            "pharmacies": [str(p.public_id) for p in linked],
            "all_pharmacies": provider.all_pharmacies,
            "endpoints": {
                "token": reverse("mcg-token"),
                "tokeninfo": reverse("mcg-tokeninfo"),
                "revoke": reverse("mcg-revoke"),
                "services": reverse("mcg-services"),
                "jwks": reverse("jwks"),
                "openapi": reverse("mcg-openapi"),
            },
        }
        self.stdout.write(json.dumps(handover, ensure_ascii=False))

    def _pharmacies(self, public_ids) -> list[Pharmacy]:
        """The pharmacies named by public id, or CommandError naming the ones that do not exist."""
        wanted = []
        for value in public_ids:
            try:
                wanted.append(uuid.UUID(value))
            except ValueError:
                raise CommandError(f"--pharmacy {value!r} is not a pharmacy public id (a UUID).")
        found = {p.public_id: p for p in Pharmacy.objects.filter(public_id__in=wanted)}
        missing = [str(u) for u in wanted if u not in found]
        if missing:
            raise CommandError(f"No pharmacy has the public id {', '.join(missing)}.")
        return list(dict.fromkeys(found[u] for u in wanted))
