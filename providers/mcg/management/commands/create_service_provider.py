"""Register a service provider and print, as one JSON object, what to hand over to it."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from providers.mcg import services


class Command(BaseCommand):
    help = "Register a service provider; prints its credentials (the client secret is shown only here)."

    def add_arguments(self, parser):
        parser.add_argument("--provider-id", type=int, required=True, help="The provider's int64 id.")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--service-id", type=int, action="append", default=[], dest="service_ids", help="A service it may call (repeat)."
        )

    def handle(self, *args, provider_id, name, service_ids, **options):
        if not -(2**63) <= provider_id < 2**63:
            raise CommandError("--provider-id must fit in 64 bits.")
        if not name.strip():
            raise CommandError("--name must not be blank.")
        try:
            with transaction.atomic():
                provider, secret = services.create_service_provider(
                    provider_id=provider_id, name=name.strip(), service_ids=service_ids
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
