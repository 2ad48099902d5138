from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = _("Pharmacies and staff")

    def ready(self):
        from . import registry
        from .conf import conf, invitations

        conf.check_at_start_up()
        invitations.check_at_start_up()
        registry.schedule("sweep-jobs", "onboarding.tasks.sweep_jobs", conf.SWEEP_INTERVAL)
