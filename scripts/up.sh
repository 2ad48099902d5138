#!/usr/bin/env bash
# A production-like stack on this machine: gunicorn, a Celery worker and beat, on local PostgreSQL and Redis.
# Debug is off, as in production. Secrets are generated once into var/up.env; providers point at the
# sandbox served by the same gunicorn (its control endpoints need SANDBOX_CONTROL_KEY or a staff session);
# email is written to files under var/mail and SMS/push go to the sandbox gateway over HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh >/dev/null
mkdir -p var
if [ ! -f var/up.env ]; then
  .venv/bin/python - <<'PY' > var/up.env
import secrets
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
open("var/jwt-signing-key.pem", "w").write(pem)
print(f"SECRET_KEY={secrets.token_urlsafe(64)}")
print(f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}")
print("ACCESS_TOKEN_SIGNING_KEY_FILES=var/jwt-signing-key.pem")
PY
  chmod 600 var/up.env
fi
# Keys added since a var/up.env was first written.
grep -q '^SANDBOX_CONTROL_KEY=' var/up.env || echo "SANDBOX_CONTROL_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> var/up.env
grep -q '^DELIVERY_GATEWAY_API_KEY=' var/up.env || echo "DELIVERY_GATEWAY_API_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> var/up.env
mkdir -p -m 700 var/mail
set -a; . var/up.env; set +a
PORT="${PORT:-8000}"
export DJANGO_DEBUG=false SECURE_SSL_REDIRECT=false ALLOWED_HOSTS="127.0.0.1,localhost"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export CACHE_URL="${CACHE_URL:-rediscache://127.0.0.1:6379/1}"
export SANDBOX_ENABLED=true SANDBOX_URL="http://127.0.0.1:${PORT}/sandbox" PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT}}"
export BIMEDOC_BASE_URL="${BIMEDOC_BASE_URL:-$SANDBOX_URL/bimedoc}" BIMEDOC_APP_URL="${BIMEDOC_APP_URL:-$SANDBOX_URL/bimedoc-app}"
export EDIN_BASE_URL="${EDIN_BASE_URL:-$SANDBOX_URL/edin}"
export EMAIL_URL="${EMAIL_URL:-filemail:///$PWD/var/mail}"
export DELIVERY_GATEWAY_BACKEND=providers.mcg.gateways.HttpGateway DELIVERY_GATEWAY_URL="${DELIVERY_GATEWAY_URL:-$SANDBOX_URL/gateway}"
export BIMEDOC_PARTNER_ID="${BIMEDOC_PARTNER_ID:-00000000-0000-4000-8000-000000000000}" BIMEDOC_API_KEY="${BIMEDOC_API_KEY:-sandbox-api-key}"
createdb -h 127.0.0.1 -U postgres "${DATABASE_URL##*/}" 2>/dev/null || true
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput >/dev/null
.venv/bin/python manage.py check --deploy --fail-level ERROR
.venv/bin/gunicorn portal.wsgi -b "127.0.0.1:${PORT}" -w "${WEB_CONCURRENCY:-2}" --threads 4 \
  --pid var/gunicorn.pid --access-logfile var/gunicorn-access.log --error-logfile var/gunicorn.log --daemon
.venv/bin/celery -A portal worker -Q default,delivery -c "${WORKER_CONCURRENCY:-4}" -n "default@%h" -l INFO \
  --pidfile var/worker.pid --logfile var/worker.log --detach
# Outbound provider calls wait on the network: a threads pool (see README, "Running at scale").
.venv/bin/celery -A portal worker -Q outbound -P threads -c "${OUTBOUND_CONCURRENCY:-16}" --prefetch-multiplier 4 \
  -n "outbound@%h" -l INFO --pidfile var/worker-outbound.pid --logfile var/worker-outbound.log --detach
.venv/bin/celery -A portal beat -l INFO --schedule var/celerybeat-schedule \
  --pidfile var/beat.pid --logfile var/beat.log --detach
echo "Serving http://127.0.0.1:${PORT} (gunicorn, Celery workers and beat). Logs in var/, email in var/mail/; stop with 'make down'."
echo "Sandbox controls: send the header X-Sandbox-Control-Key (SANDBOX_CONTROL_KEY in var/up.env)."
