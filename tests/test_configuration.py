"""The settings contract: embedded defaults that need no service, and a production mode that is locked down."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k3y-" + "x7Qm9-Rt2vLp8ZsW4nB6yHcJ0eFgU1aDiK5oT3" * 2


def manage(*args, env_overrides=None, input_text=None):
    stripped = ("DATABASE_URL", "CELERY_", "CACHE_URL", "DJANGO_", "SANDBOX_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(stripped)}
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=input_text,
    )


def production_env(tmp_path, **extra):
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(pem)
    env = {
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": STRONG_KEY,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ACCESS_TOKEN_SIGNING_KEY_FILES": str(key_file),
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "BIMEDOC_PARTNER_ID": "partner",
        "BIMEDOC_API_KEY": "key",
        "PUBLIC_BASE_URL": "https://portal.example.com",
        "CACHE_URL": "rediscache://127.0.0.1:6379/15",
        "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.com:587",
        "DELIVERY_GATEWAY_BACKEND": "providers.mcg.gateways.HttpGateway",
        "DELIVERY_GATEWAY_URL": "https://gateway.example.com",
        "DELIVERY_GATEWAY_API_KEY": "gateway-key",
    }
    env.update(extra)
    return env


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=production_env(tmp_path))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is weak"),
        ({"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5}, "SECRET_KEY is weak"),
        ({"FIELD_ENCRYPTION_KEYS": ""}, "FIELD_ENCRYPTION_KEYS must be set"),
        ({"ACCESS_TOKEN_SIGNING_KEY_FILES": ""}, "ACCESS_TOKEN_SIGNING_KEYS"),
        ({"BIMEDOC_API_KEY": ""}, "BIMEDOC_API_KEY must be set"),
        ({"BIMEDOC_PARTNER_ID": ""}, "BIMEDOC_PARTNER_ID must be set"),
        # A value an app's own settings refuse (portal/appconf.py, checked in each AppConfig.ready()).
        ({"BIMEDOC_ENV": "staging"}, "BIMEDOC_ENV: must be 'test' or 'production'"),
        ({"BIMEDOC_MAX_RPS": "-1"}, "BIMEDOC_MAX_RPS: must not be negative"),
        ({"BIMEDOC_RETRY_MAX_DELAY": "7200"}, "BIMEDOC_RETRY_MAX_DELAY: must be shorter than CELERY_VISIBILITY_TIMEOUT"),
        ({"JOB_RUNNING_STALE_AFTER": "100"}, "JOB_RUNNING_STALE_AFTER: must be longer than CELERY_TASK_TIME_LIMIT"),
        ({"INVITATION_LIFETIME_DAYS": "0"}, "INVITATION_LIFETIME_DAYS: must be at least 1"),
        ({"PROVIDER_READ_TIMEOUT": "0"}, "PROVIDER_READ_TIMEOUT: must be positive"),
    ],
)
def test_production_refuses_to_start_without_strong_secrets_or_on_a_refused_setting(tmp_path, overrides, message):
    result = manage("check", env_overrides=production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert message in result.stderr


def test_production_points_bimedoc_at_the_configured_server(tmp_path):
    code = "from providers.bimedoc.conf import conf; print(conf.BASE_URL, conf.APP_URL)"
    test_env = manage("shell", "-v", "0", "-c", code, env_overrides=production_env(tmp_path))
    assert test_env.stdout.split() == ["https://server-test.bimedoc.com", "https://app-test.bimedoc.com"]
    prod = manage("shell", "-v", "0", "-c", code, env_overrides=production_env(tmp_path, BIMEDOC_ENV="production"))
    assert prod.stdout.split() == ["https://server.bimedoc.com", "https://app.bimedoc.com"]


def test_a_process_started_with_no_settings_is_production_and_refuses_to_start(tmp_path):
    result = manage("check", env_overrides={"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_DEBUG is false" in result.stderr
    # Said once, plainly, not buried under Django's later failure to find its apps.
    assert "Traceback" not in result.stderr and "AppRegistryNotReady" not in result.stderr


def test_makemigrations_needs_no_production_settings_and_sees_every_app(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = manage("makemigrations", "--check", "--dry-run", env_overrides=env)
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
    # The sandbox's apps are among those checked, and a production process still refuses to run it.
    listed = manage("makemigrations", "sandbox_bimedoc", "--check", "--dry-run", env_overrides=env)
    assert listed.returncode == 0, listed.stderr
    refused = manage("makemigrations", "--check", env_overrides={**env, "DJANGO_DEBUG": "false"})
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr


def test_production_never_signs_with_a_development_key(tmp_path):
    """Even with every other setting right, no signing key means no start, not a key rebuilt from public code."""
    result = manage("check", env_overrides=production_env(tmp_path, ACCESS_TOKEN_SIGNING_KEY_FILES=""))
    assert result.returncode != 0
    assert "ACCESS_TOKEN_SIGNING_KEYS" in result.stderr


@pytest.mark.parametrize(
    "overrides,names",
    [
        ({"CACHE_URL": ""}, ["CACHE_URL", "shared Redis cache", "locmem"]),
        ({"CACHE_URL": "locmemcache://"}, ["CACHE_URL", "locmem"]),
        ({"CACHE_URL": "dummycache://"}, ["CACHE_URL", "dummy"]),
        ({"CACHE_URL": "filecache:///tmp/portal-cache"}, ["CACHE_URL", "filebased"]),
        ({"EMAIL_URL": ""}, ["EMAIL_URL", "ALLOW_CONSOLE_EMAIL"]),
        ({"EMAIL_URL": "consolemail://"}, ["EMAIL_URL", "ALLOW_CONSOLE_EMAIL"]),
        ({"DELIVERY_GATEWAY_BACKEND": ""}, ["DELIVERY_GATEWAY_BACKEND", "ALLOW_CONSOLE_GATEWAY"]),
        ({"DELIVERY_GATEWAY_API_KEY": ""}, ["DELIVERY_GATEWAY_API_KEY"]),
    ],
)
def test_production_refuses_per_process_caches_and_console_outputs(tmp_path, overrides, names):
    env = production_env(tmp_path)
    for name, value in overrides.items():
        if value:
            env[name] = value
        else:
            del env[name]
    result = manage("check", env_overrides=env)
    assert result.returncode != 0
    for name in names:
        assert name in result.stderr


def test_production_takes_the_console_email_and_gateway_only_when_told_explicitly(tmp_path):
    env = production_env(tmp_path, EMAIL_URL="consolemail://", ALLOW_CONSOLE_EMAIL="true", ALLOW_CONSOLE_GATEWAY="true")
    del env["DELIVERY_GATEWAY_BACKEND"]
    result = manage("check", env_overrides=env)
    assert result.returncode == 0, result.stderr


def test_production_installs_and_serves_no_sandbox_unless_enabled(tmp_path):
    code = (
        "from django.conf import settings; from django.test import Client;"
        "print('APPS', any(a.startswith('providers.sandbox') for a in settings.INSTALLED_APPS));"
        "print('FAULTS', Client().get('/sandbox/bimedoc/_faults', secure=True).status_code)"
    )
    off = manage("shell", "-v", "0", "-c", code, env_overrides=production_env(tmp_path, ALLOWED_HOSTS="testserver"))
    assert off.returncode == 0, off.stderr
    assert "APPS False" in off.stdout and "FAULTS 404" in off.stdout
    on = manage(
        "shell", "-v", "0", "-c", code, env_overrides=production_env(tmp_path, ALLOWED_HOSTS="testserver", SANDBOX_ENABLED="true")
    )
    assert "APPS True" in on.stdout
    # Served, but its controls are locked: no staff session, no control key.
    assert "FAULTS 403" in on.stdout


def test_embedded_defaults_run_on_sqlite_with_tasks_in_process(tmp_path):
    """No service at all: SQLite, no broker; a queued email is sent by the in-process task (debug, as make run sets)."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DJANGO_DEBUG": "true"}
    assert manage("migrate", "--noinput", env_overrides=env).returncode == 0
    assert "Demo logins" in manage("load_demo", env_overrides=env).stdout
    script = (
        "from django.conf import settings; from django.test import Client;"
        "assert settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL;"
        "assert settings.DATABASES['default']['ENGINE'].endswith('sqlite3');"
        "r = Client().post('/accounts/password/reset/', {'email': 'titulaire@demo.example'});"
        "print('STATUS', r.status_code);"
        "import json; c = Client();"
        "a = c.post('/integrations/mobilesaude/autorizacao', json.dumps({'usuario': 'mobilesaude-demo',"
        " 'senha': 'demo-api-secret-not-for-production-0001'}), content_type='application/json').json()['auth'][0];"
        "i = c.post('/integrations/mobilesaude/recuperarSenhaIdentificacao', json.dumps({'cpf': '544.300.707-68',"
        " 'dataNascimento': '1990-05-17'}), content_type='application/json', headers={a['chave']: a['token']});"
        "print('IDENT', i.status_code, i.json()['contatos'][0]['contato']);"
        "t = c.post('/mcg/v1/token', 'grant_type=client_credentials&client_id=mcg-demo-clinic"
        "&client_secret=demo-api-secret-not-for-production-0001', content_type='application/x-www-form-urlencoded');"
        "print('TOKEN', t.status_code)"
    )
    result = manage("shell", "-c", script, env_overrides=env)
    assert result.returncode == 0, result.stderr
    assert "STATUS 302" in result.stdout
    # The console email backend printed the reset message: the task ran in-process after the commit.
    assert "titulaire@demo.example" in result.stdout
    assert "http://127.0.0.1:8000/accounts/password/reset/key/" in result.stdout
    # The demo API clients printed by `make run` work.
    assert "IDENT 200 titulaire@demo.example" in result.stdout
    assert "TOKEN 200" in result.stdout
