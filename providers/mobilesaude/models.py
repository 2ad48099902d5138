"""Integration clients: the Mobile Saúde platform accounts allowed to call the portal's inbound API."""

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils.translation import gettext_lazy as _


class IntegrationClient(models.Model):
    """A Mobile Saúde integration client: the ``usuario``/``senha`` pair it sends to ``/autorizacao``."""

    usuario = models.CharField(_("usuario"), max_length=150, unique=True, help_text=_("The login the platform sends."))
    password = models.CharField(_("password"), max_length=128, help_text=_("Hashed with Django's password hashers."))
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive clients get no new tokens and their tokens stop working.")
    )
    # Bumped when the client is deactivated, reactivated or given a new password: its earlier tokens stop working.
    token_generation = models.PositiveIntegerField(_("token generation"), default=0, editable=False)
    last_authorized_at = models.DateTimeField(_("last authorized"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Mobile Saúde integration client")
        verbose_name_plural = _("Mobile Saúde integration clients")
        ordering = ["usuario"]

    def __str__(self):
        return self.usuario

    def set_password(self, raw_password: str) -> None:
        self.password = make_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        """Whether the password matches; rehashes it (and saves) when the hasher settings changed."""

        def upgrade(raw):
            self.set_password(raw)
            self.save(update_fields=["password", "updated_at"])

        return check_password(raw_password, self.password, upgrade)
