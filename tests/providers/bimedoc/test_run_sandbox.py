"""``manage.py run_sandbox`` serves the sandbox alone, on its own port, to other processes."""

import pytest
import requests

from providers.bimedoc.client import BimedocClient, NewPharmacy, NewUser
from providers.bimedoc.conf import conf as bimedoc_conf
from tests.conftest import start_sandbox_process


@pytest.fixture
def sandbox_process(worker_env, transactional_db):
    proc, base = start_sandbox_process(worker_env)
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
