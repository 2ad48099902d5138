"""The service-provider API's own settings (``MCG_*``), read as ``conf.NAME``.

The delivery gateway's settings (``DELIVERY_*``, ``ALLOW_CONSOLE_GATEWAY``) stay in
``portal/settings.py`` beside their start-up refusals.
"""

from portal.appconf import AppSettings, Setting, positive


def _rate(value, conf):
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        return "must be in the limits notation, e.g. 120/minute or 10/second;1000/hour."
    return None


conf = AppSettings(
    "MCG",
    [
        Setting("MAX_BODY_BYTES", 2_000_000, int, "Largest /Services body (bytes).", check=positive),
        Setting("PICTURE_MAX_BYTES", 1_000_000, int, "Largest advertisement picture (decoded bytes).", check=positive),
        Setting("PICTURE_MAX_PIXELS", 4096 * 4096, int, "Largest advertisement picture (pixels).", check=positive),
        Setting("SERVICES_RATE_LIMIT", "120/minute", str, "Calls to /Services per provider.", check=_rate),
    ],
)
