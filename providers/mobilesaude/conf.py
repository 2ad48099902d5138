"""Mobile Saúde's settings (``MOBILESAUDE_*``), read as ``conf.NAME``."""

from portal.appconf import AppSettings, Setting, positive

conf = AppSettings(
    "MOBILESAUDE",
    [
        Setting("AUTH_HEADER", "Authorization", str, "The header (chave) the Mobile Saúde app sends back."),
        Setting("AUTH_SCHEME", "Bearer", str, "The prefix before the token in that header's value."),
        Setting("TOKEN_LIFETIME", 900, int, "Seconds an integration client's token (/autorizacao) lives.", check=positive),
        Setting("USER_TOKEN_LIFETIME", 3600, int, "Seconds a user's token (identification) lives.", check=positive),
        Setting("MAX_BODY_BYTES", 16 * 1024, int, "Larger request bodies get 413.", check=positive),
        Setting("THROTTLE_WINDOW", 900, int, "Sliding window (s) of the failure counts below.", check=positive),
        Setting("THROTTLE_FAILURES_PER_USUARIO", 10, int, "Failed sign-ins per usuario in the window.", check=positive),
        Setting("THROTTLE_FAILURES_PER_ADDRESS", 30, int, "Failed sign-ins per client address.", check=positive),
        Setting("THROTTLE_FAILURES_PER_CLIENT", 100, int, "Failed identifications per client.", check=positive),
        Setting("THROTTLE_FAILURES_PER_CPF", 5, int, "Failed identifications per CPF.", check=positive),
    ],
)
