"""The sandbox's settings: where the providers' default URLs find it, and the key its control endpoints ask for.

Whether the sandbox is installed at all (``SANDBOX_ENABLED``) is read in
``portal/settings.py``: it decides the installed apps and URLs.
"""

from portal.appconf import AppSettings, Setting

conf = AppSettings(
    "SANDBOX",
    [
        Setting("URL", "http://127.0.0.1:8000/sandbox", str, "Where the providers' default URLs find the sandbox."),
        Setting(
            "CONTROL_KEY",
            "",
            str,
            "With debug off, the control endpoints (_faults, _state, _control, _accounts, _sessions) answer only a "
            "staff session or this value in the X-Sandbox-Control-Key header.",
        ),
    ],
)

edin = AppSettings(
    "EDIN_SANDBOX",
    [
        Setting("IDLE_SECONDS", 600, int, "Idle seconds before the simulated EDIN forgets a SID."),
        Setting("CAPTCHA_AFTER", 3, int, "Wrong passwords in a row before the simulated EDIN asks for a captcha."),
    ],
)
