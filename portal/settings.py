"""Settings, read from the environment (and an optional .env) in this one place.

A process started with no settings is a production process (DJANGO_DEBUG
defaults to false): it refuses to start without its secrets, a shared (Redis)
cache, a real email backend and a real delivery gateway. With DJANGO_DEBUG=true
every value has an embedded default that needs no outside service: SQLite,
Celery tasks run in-process, providers pointed at the built-in sandbox.
"""

import base64
import hashlib
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Read once: test runners turn settings.DEBUG off at run time. The apps' settings
# (portal/appconf.py) take their debug defaults from this.
DEBUG_PROCESS = DEBUG

# --- Secrets -----------------------------------------------------------------

_DEV_SECRET_KEY = "dev-only-insecure-key-5c1f0e9a7b3d4e8f9a2b6c0d1e7f3a9b8c4d2e6f0a1b5c9d"


def _check_secret_key(key):
    """Refuse a secret key that Django's deploy checks would call weak."""
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY is weak: use at least 50 characters with at least 5 distinct "
            "ones (python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    if key == _DEV_SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is the development key; set a real one.")
    return key


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
else:
    if not env.str("SECRET_KEY", default=""):
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is false.")
    SECRET_KEY = _check_secret_key(env.str("SECRET_KEY"))

# Comma-separated Fernet keys: the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is false "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(("fields:" + SECRET_KEY).encode()).digest()).decode()]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many proxies in front of the portal append the address they saw to X-Forwarded-For
# (0: the portal is reached directly and REMOTE_ADDR is the client). Read by providers.addresses.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# The built-in sandbox simulates Bimedoc, EDIN and the delivery gateway. Its apps are
# installed and its URLs served under /sandbox/ only when enabled (by default: in debug).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# SANDBOX_URL and SANDBOX_CONTROL_KEY: providers/sandbox/conf.py. The delivery gateway's default URL is built from it.
_SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8000/sandbox").rstrip("/")
# Read once here: test runners turn settings.DEBUG off at run time.
SANDBOX_CONTROLS_OPEN = DEBUG
# The API reference pages (/mcg/v1/docs, /integrations/mobilesaude/docs) send "Try it out" requests
# to this portal: in development, whose providers are the sandbox. Off in production by default.
API_DOCS_TRY_IT = env.bool("API_DOCS_TRY_IT", default=DEBUG)

# --- Applications --------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "tokens",
    "onboarding",
    "providers.bimedoc",
    "providers.edin",
    "providers.mobilesaude",
    "providers.mcg",
]
if SANDBOX_ENABLED:
    INSTALLED_APPS += ["providers.sandbox", "providers.sandbox.bimedoc", "providers.sandbox.edin", "providers.sandbox.gateway"]

MIDDLEWARE = [
    # Machine API calls (views marked providers.inbound.machine_api) skip the browser-only middleware below.
    "providers.inbound.MachineApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "providers.mcg.context_processors.inbox",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

# --- Data ----------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache (Redis) is what throttles, rate limits, revocations and circuit
# breakers count in when several processes serve the portal; the debug default is
# per-process memory, which production refuses.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
_REDIS_CACHE_BACKENDS = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
if not DEBUG and CACHES["default"]["BACKEND"] not in _REDIS_CACHE_BACKENDS:
    raise ImproperlyConfigured(
        "CACHE_URL must name a shared Redis cache when DJANGO_DEBUG is false (e.g. rediscache://127.0.0.1:6379/1): "
        "throttles, rate limits, token revocations and circuit breakers live there, and a per-process cache "
        f"({CACHES['default']['BACKEND'].rsplit('.', 2)[-2]}) gives every process its own counters."
    )
_cache_location = CACHES["default"].get("LOCATION", "")
# The Redis URL behind the cache, when it is Redis (revocation pushes and rate limits use it too).
CACHE_REDIS_URL = _cache_location if isinstance(_cache_location, str) and _cache_location.startswith("redis") else ""

AUTH_USER_MODEL = "onboarding.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# --- Accounts (django-allauth) ------------------------------------------------------
# Staff log in with their email at /accounts/login/, verify it by email, may add a
# second factor (TOTP with recovery codes, passkeys) and see their other sessions.
# Every limit below counts in the shared cache (CACHE_URL): per process it would
# count per process.

INSTALLED_APPS += ["allauth", "allauth.account", "allauth.mfa", "allauth.usersessions"]
_after_messages = MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1
MIDDLEWARE[_after_messages:_after_messages] = [
    "onboarding.middleware.IdleSessionMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "onboarding.middleware.AdminSecondFactorMiddleware",
]
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

# Scheme and host of the links in emails, which the workers build without a request.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not PUBLIC_BASE_URL:
    raise ImproperlyConfigured("PUBLIC_BASE_URL must be set when DJANGO_DEBUG is false (e.g. https://portal.example.com).")
if not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must start with https:// (or http:// in development).")

ACCOUNT_ADAPTER = "onboarding.adapters.AccountAdapter"
ACCOUNT_FORMS = {
    "signup": "onboarding.forms.SignUpForm",
    "reset_password_from_key": "onboarding.forms.ResetPasswordKeyForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Unverified people may log in and look around; the portal creates nothing at a provider for them.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env.int("ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS", default=3)
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_UNIQUE_EMAIL = True
# One address per account: a new one replaces the old once it is verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PUBLIC_BASE_URL.partition(":")[0]
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=300)
# allauth's rate syntax: "<amount>/<period><s|m|h|d>/<ip|key|user>", comma-separated.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/300s/key"),
    "login": env.str("RATE_LIMIT_LOGIN", default="30/m/ip"),
    "signup": env.str("RATE_LIMIT_SIGNUP", default="20/h/ip"),
    "reset_password": env.str("RATE_LIMIT_RESET_PASSWORD", default="20/h/ip,5/h/key"),
    "reset_password_from_key": "20/m/ip",
    "manage_email": env.str("RATE_LIMIT_MANAGE_EMAIL", default="10/h/user"),
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/180s/key",
    # The portal's own: CPF changes on the profile.
    "change_cpf": env.str("RATE_LIMIT_CHANGE_CPF", default="5/h/user,20/h/ip"),
}
# Proxies in front of the portal that append to X-Forwarded-For (0: the header is ignored).
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

MFA_ADAPTER = "onboarding.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Pharmacy portal")
MFA_PASSKEY_LOGIN_ENABLED = True
# WebAuthn over plain http works on localhost only, and only in development.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Django admin requires an enrolled second factor; staff without one are sent to enrol first.
ADMIN_MFA_REQUIRED = env.bool("ADMIN_MFA_REQUIRED", default=not DEBUG)

USERSESSIONS_TRACK_ACTIVITY = True
# A session left idle this many seconds ends (the next request goes to the login page).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=1800)
if SESSION_IDLE_TIMEOUT < 60:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT must be at least 60 seconds.")
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT

# INVITATION_LIFETIME_DAYS: onboarding/conf.py.

# --- Languages -----------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("pt-br", _("Brazilian Portuguese")),
    ("uk", _("Ukrainian")),
    ("es", _("Spanish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Region for phone numbers typed without an international prefix.
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="FR")
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email -----------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# The console backend prints every message (reset links included) to the log: production
# refuses it unless this says it is meant.
ALLOW_CONSOLE_EMAIL = env.bool("ALLOW_CONSOLE_EMAIL", default=DEBUG)
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend" and not ALLOW_CONSOLE_EMAIL:
    raise ImproperlyConfigured(
        "EMAIL_URL is the console backend, which prints reset links to the log: set EMAIL_URL to a real mail "
        "server (e.g. smtp+tls://user:pass@smtp.example.com:587), or ALLOW_CONSOLE_EMAIL=true if that is meant."
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Pharmacy portal <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) -------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every answer (django-csp): scripts and styles only from the
# portal's own static files (no inline script or style), images from the portal and data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Celery ----------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process, right where they are enqueued.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Jobs call providers: they run on the outbound workers.
    "onboarding.tasks.run_job": {"queue": "outbound"},
    "providers.mcg.tasks.*": {"queue": "delivery"},
    "providers.*": {"queue": "outbound"},
}
CELERY_WORKER_QUEUES = "default,outbound,delivery"
# At-least-once delivery: a task is acknowledged when it ends, and requeued
# when the worker running it dies; the steps themselves are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
# Longer than the longest retry countdown, or Redis would redeliver a task
# that is merely waiting for its retry.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The job engine's sweep (JOB_SWEEP_*, JOB_RUNNING_STALE_AFTER): onboarding/conf.py. Kinds of job and the
# periodic tasks (Celery beat) are registered by the apps that declare them, in their AppConfig.ready().

# --- Providers -------------------------------------------------------------------

# Each provider's own settings are declared beside it: providers/bimedoc/conf.py (BIMEDOC_*),
# providers/edin/conf.py (EDIN_*), providers/sandbox/conf.py (SANDBOX_*, EDIN_SANDBOX_*), and the ones
# every outbound call shares in providers/conf.py (PROVIDER_*, CIRCUIT_BREAKER_*, RATE_LIMIT_STORAGE_URL).

# --- Mobile Saúde (inbound): its settings (MOBILESAUDE_*) are declared in providers/mobilesaude/conf.py.

# MCG service-provider API (/mcg/v1/..., /Services) and delivery of what providers send.
# Delivery gateway for SMS, push (FCM) and SAT: a dotted path to a backend class.
# "providers.mcg.gateways.ConsoleGateway" (default) writes to the log;
# "providers.mcg.gateways.HttpGateway" posts to DELIVERY_GATEWAY_URL (the sandbox gateway by default).
DELIVERY_GATEWAY_BACKEND = env.str("DELIVERY_GATEWAY_BACKEND", default="providers.mcg.gateways.ConsoleGateway")
DELIVERY_GATEWAY_URL = env.str("DELIVERY_GATEWAY_URL", default=f"{_SANDBOX_URL}/gateway").rstrip("/")
DELIVERY_GATEWAY_API_KEY = env.str("DELIVERY_GATEWAY_API_KEY", default="sandbox-gateway-key" if DEBUG else "")
# The console gateway writes phone numbers and messages to the log: production refuses it unless this says it is meant.
ALLOW_CONSOLE_GATEWAY = env.bool("ALLOW_CONSOLE_GATEWAY", default=DEBUG)
if DELIVERY_GATEWAY_BACKEND == "providers.mcg.gateways.ConsoleGateway" and not ALLOW_CONSOLE_GATEWAY:
    raise ImproperlyConfigured(
        "DELIVERY_GATEWAY_BACKEND is the console gateway, which writes phone numbers and messages to the log: "
        "set DELIVERY_GATEWAY_BACKEND=providers.mcg.gateways.HttpGateway with DELIVERY_GATEWAY_URL and "
        "DELIVERY_GATEWAY_API_KEY, or ALLOW_CONSOLE_GATEWAY=true if that is meant."
    )
if DELIVERY_GATEWAY_BACKEND == "providers.mcg.gateways.HttpGateway" and not DELIVERY_GATEWAY_API_KEY:
    raise ImproperlyConfigured("DELIVERY_GATEWAY_API_KEY must be set for the HTTP delivery gateway.")
# Tries per delivery before an item is marked failed; the wait doubles from DELIVERY_RETRY_DELAY seconds.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
DELIVERY_RETRY_DELAY = env.int("DELIVERY_RETRY_DELAY", default=10)
# The API's own settings (MCG_*: body and picture limits, the /Services rate) are declared in providers/mcg/conf.py.
# Where rate-limit counters live (a `limits` storage URL): the Redis cache's server by default.
RATELIMIT_STORAGE_URL = env.str("RATELIMIT_STORAGE_URL", default=CACHE_REDIS_URL or "memory://")
# Celery's Django fixup would close the database connections around every task; portal/celery.py
# closes only those past CONN_MAX_AGE or broken, as Django does between requests.
CELERY_DB_REUSE_MAX = 10**9

# --- Access tokens (JWT) issued by the portal --------------------------------------

# The access tokens' settings (ACCESS_TOKEN_SIGNING_KEYS / _FILES, _ISSUER, _AUDIENCE, _LIFETIME,
# _LEEWAY) are declared in tokens/conf.py and checked at start-up (keys required with DEBUG off:
# only a debug process, DEBUG_PROCESS, may sign with the key derived from SECRET_KEY).
# Revocations (a revoked token, a client's tokens voided, a client deactivated) are pushed to
# every process over Redis pub/sub; a process answers from memory only while its subscription
# was confirmed within REVOCATION_PUSH_MAX_AGE seconds, otherwise it asks the shared cache.
REVOCATION_REDIS_URL = env.str("REVOCATION_REDIS_URL", default=CACHE_REDIS_URL)
REVOCATION_PUSH_MAX_AGE = env.float("REVOCATION_PUSH_MAX_AGE", default=1.0)

# --- Logging ---------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
