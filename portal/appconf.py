"""Each app's settings, declared beside the app that reads them.

An app lists its settings once, in its own ``conf.py``::

    conf = AppSettings("BIMEDOC", [
        Setting("MAX_RETRIES", 5, int, "Retries of a job step after a transient failure."),
        Setting("API_KEY", "", str, "The partner API key.", debug_default="sandbox-api-key", required=True),
    ])

and reads them as ``conf.MAX_RETRIES``. A value comes from, in this order:
a Django setting of the full name (``BIMEDOC_MAX_RETRIES``, which is how tests
override one), the environment variable of that name, the default (or
``debug_default`` in a debug process: ``settings.DEBUG_PROCESS``, what
``DJANGO_DEBUG`` said at start-up, since test runners turn ``settings.DEBUG``
off at run time). Values are cached per process and forgotten when a test
changes a setting.

``validate()`` returns what is wrong (a required setting left empty in a
production process, a value its own check refuses). Each app calls it from
``AppConfig.ready()`` through ``check_at_start_up``, so a process refuses to
start, and the same findings are reported by ``manage.py check``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import environ
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

_env = environ.Env()
_NOT_SET = object()
_CASTS = {str: _env.str, int: _env.int, float: _env.float, bool: _env.bool, list: _env.list}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    cast: type = str
    doc: str = ""
    # The default in a debug process, when it differs (a sandbox URL, a development key).
    debug_default: Any = _NOT_SET
    # A production process (DEBUG off) refuses to start while this is empty.
    required: bool = False
    # Returns a message when the value is refused, None when it is fine. Gets the value and the conf.
    check: Callable[[Any, AppSettings], str | None] | None = None


class AppSettings:
    registry: list[AppSettings] = []

    def __init__(self, prefix: str, declarations: list[Setting]):
        self.prefix = prefix
        self.declarations = {d.name: d for d in declarations}
        self._cache: dict[str, Any] = {}
        AppSettings.registry.append(self)

    def full_name(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def __getattr__(self, name: str) -> Any:
        declarations = self.__dict__.get("declarations", {})
        if name not in declarations:
            raise AttributeError(f"{self.__dict__.get('prefix')} has no setting {name}")
        cache = self.__dict__["_cache"]
        if name not in cache:
            cache[name] = self._resolve(declarations[name])
        return cache[name]

    def _resolve(self, declaration: Setting) -> Any:
        from django.conf import settings

        full = self.full_name(declaration.name)
        if hasattr(settings, full):
            return getattr(settings, full)
        default = declaration.default
        if debug_process() and declaration.debug_default is not _NOT_SET:
            default = declaration.debug_default
        if callable(default):
            default = default(settings)
        return _CASTS[declaration.cast](full, default=default)

    def forget(self) -> None:
        self._cache.clear()

    def validate(self) -> list[str]:

        problems = []
        for declaration in self.declarations.values():
            full = self.full_name(declaration.name)
            try:
                value = getattr(self, declaration.name)
            except (ValueError, environ.ImproperlyConfigured) as exc:
                problems.append(f"{full}: {exc}")
                continue
            if declaration.required and not debug_process() and value in ("", None, [], ()):
                problems.append(f"{full} must be set when DJANGO_DEBUG is false. {declaration.doc}".strip())
            elif declaration.check and (message := declaration.check(value, self)):
                problems.append(f"{full}: {message}")
        return problems

    def check_at_start_up(self) -> None:
        """Refuse to start (ImproperlyConfigured) while any of these settings is wrong."""
        problems = self.validate()
        if problems:
            raise ImproperlyConfigured(" ".join(problems))


def positive(value, conf) -> str | None:
    """A ``Setting`` check: the value must be above zero."""
    return None if value > 0 else "must be positive."


def debug_process() -> bool:
    """Whether this process started as a debug process (DJANGO_DEBUG), whatever ``settings.DEBUG`` says now."""
    from django.conf import settings

    return getattr(settings, "DEBUG_PROCESS", settings.DEBUG)


def _forget_all(**kwargs):
    for conf in AppSettings.registry:
        conf.forget()


setting_changed.connect(_forget_all)


@checks.register(checks.Tags.compatibility)
def check_app_settings(app_configs=None, **kwargs):
    return [
        checks.Error(problem, id="portal.E001", obj=conf.prefix)
        for conf in AppSettings.registry
        for problem in conf.validate()
    ]
