"""What the simulated delivery gateway has been asked to send."""

from django.db import models
from django.utils import timezone


class GatewayMessage(models.Model):
    """One SMS, push or SAT message accepted by the simulated gateway (deduplicated by message_id)."""

    message_id = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=8)
    to = models.CharField(max_length=200)
    title = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    link = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return f"{self.channel} to {self.to}"
