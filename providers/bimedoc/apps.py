from django.apps import AppConfig


class BimedocConfig(AppConfig):
    name = "providers.bimedoc"
    label = "bimedoc"
    verbose_name = "Bimedoc"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from onboarding import jobs, registry
        from providers import conf as outbound

        from . import demo, panels, services
        from . import jobs as bimedoc_jobs
        from .conf import conf

        conf.check_at_start_up()
        outbound.check_at_start_up()
        jobs.register(*bimedoc_jobs.kinds())
        registry.register_panel(panels.PANEL)
        registry.register_action(registry.Action("wizard-titulaire", _("Set up a pharmacy"), "setup-pharmacy"))
        registry.register_join_handler(
            registry.JoinHandler(
                start_job=services.start_colleague_job,
                message=_("You joined %(pharmacy)s. Your Bimedoc account in it is being created."),
            )
        )
        registry.register_demo(registry.Demo("bimedoc", after=demo.after))
