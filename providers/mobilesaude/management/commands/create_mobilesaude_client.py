"""Register a Mobile Saúde integration client and print the credentials to hand over, as one JSON object."""

import json
import secrets
import sys

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from providers.mobilesaude import services
from providers.mobilesaude.conf import conf

MIN_PASSWORD_LENGTH = 12


class Command(BaseCommand):
    help = (
        "Register a Mobile Saúde integration client. The password is read from standard input with "
        "--password-stdin, or generated; the credentials and endpoint paths are printed as one JSON object."
    )

    def add_arguments(self, parser):
        parser.add_argument("--usuario", required=True, help="The login Mobile Saúde will send.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (otherwise a strong one is generated).",
        )

    def handle(self, *args, usuario, password_stdin, **options):
        usuario = usuario.strip()
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if len(password) < MIN_PASSWORD_LENGTH:
                raise CommandError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
        else:
            password = secrets.token_urlsafe(32)
        try:
            client = services.create_client(usuario=usuario, password=password)
        except services.ClientExists:
            raise CommandError(f"An integration client {usuario!r} already exists (change it in the admin).")
        except ValueError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            json.dumps(
                {
                    "usuario": client.usuario,
                    "senha": password,
                    "header": conf.AUTH_HEADER,
                    "endpoints": {
                        "autorizacao": reverse("mobilesaude:autorizacao"),
                        "recuperarSenhaIdentificacao": reverse("mobilesaude:identificacao"),
                        "openapi": reverse("mobilesaude:openapi"),
                    },
                },
                ensure_ascii=False,
            )
        )
