#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that only read the models and write migration files: they sign, encrypt, send and serve
# nothing, so they run on the development settings (every app listed, the sandbox's too) unless the
# environment says otherwise. Every other command, like every server, refuses to start without its
# production settings.
MODEL_ONLY_COMMANDS = {"makemigrations"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if sys.argv[1:2] and sys.argv[1] in MODEL_ONLY_COMMANDS:
        os.environ.setdefault("DJANGO_DEBUG", "true")
        os.environ.setdefault("SANDBOX_ENABLED", "true")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which refuse what is missing
    except ImproperlyConfigured as exc:
        # Django would go on without its apps and fail later on something unrelated.
        sys.exit(
            f"The settings refuse to start: {exc}\n"
            "A process started without settings is a production process; "
            "for development set DJANGO_DEBUG=true (make run and make test do)."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
