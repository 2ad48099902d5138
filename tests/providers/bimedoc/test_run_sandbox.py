"""``manage.py run_sandbox`` serves the sandbox alone, on its own port, to other processes."""

import socket
import subprocess
import sys
import time

import pytest
import requests

from providers.bimedoc.client import BimedocClient, NewPharmacy, NewUser
from providers.bimedoc.conf import conf as bimedoc_conf
from tests.conftest import ROOT


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sandbox_process(worker_env, transactional_db):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port), "--quiet"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/sandbox"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/bimedoc/_state", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_run_sandbox_serves_bimedoc_and_nothing_of_the_portal(sandbox_process, settings):
    client = BimedocClient(
        base_url=f"{sandbox_process}/bimedoc", partner_id=bimedoc_conf.PARTNER_ID, api_key=bimedoc_conf.API_KEY
    )
    user = client.create_user(NewUser(email="standalone@example.com", first_name="Sam"))
    pharmacy = client.create_pharmacy(user.token, NewPharmacy(name="Pharmacie Seule"))
    token = client.create_sso_token(user.id)
    landing = requests.get(f"{sandbox_process}/bimedoc-app/sso/", params={"pharmacy": pharmacy.id, "sso_token": token})
    assert landing.status_code == 200 and "standalone@example.com" in landing.text
    state = requests.get(f"{sandbox_process}/bimedoc/_state", timeout=5).json()
    assert state["users"] == 1 and state["pharmacies"] == 1
    base = sandbox_process.removesuffix("/sandbox")
    assert requests.get(f"{base}/accounts/login/", timeout=5).status_code == 404
    assert requests.get(f"{base}/admin/", timeout=5).status_code == 404
    client.transport.session.close()
