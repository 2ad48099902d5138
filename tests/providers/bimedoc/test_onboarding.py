"""The wizard and its job, run in-process (eager Celery) against the sandbox over real HTTP."""

import pytest
from django.urls import reverse

from onboarding import jobs
from onboarding.models import AccountStatus, Job, JobStatus, Membership, OutboundCall, Pharmacy, ProviderAccount
from providers.bimedoc import services
from providers.bimedoc.client import NewUser
from providers.sandbox import faults

from .conftest import make_staff

pytestmark = pytest.mark.django_db

TITULAIRE = {"first_name": "Claire", "last_name": "Dupont", "mobile_number": "06 12 34 56 78", "rpps_number": "10101234567",
             "gender": "f"}  # fmt: skip
PHARMACY = {"name": "Pharmacie du Port", "phone_number": "01 45 67 89 00", "street": "2 quai Nord", "city": "Brest",
            "postcode": "29200"}  # fmt: skip


def run_wizard(client, titulaire=TITULAIRE, pharmacy=PHARMACY):
    """Go through the three steps; return the response to the final submit."""
    assert client.post(reverse("wizard-titulaire"), titulaire).status_code == 302
    assert client.post(reverse("wizard-pharmacy"), pharmacy).status_code == 302
    review = client.get(reverse("wizard-review"))
    assert review.status_code == 200
    return client.post(reverse("wizard-review"), {"key": review.context["key"]})


def test_step_one_is_prefilled_from_the_profile(client, staff):
    client.force_login(staff)
    form = client.get(reverse("wizard-titulaire")).context["form"]
    assert form.initial["last_name"] == "Dupont" and form.initial["rpps_number"] == "10101234567"


@pytest.mark.parametrize(
    "step,data,field,message",
    [
        ("wizard-titulaire", {**TITULAIRE, "gender": "x"}, "gender", "valid choice"),
        ("wizard-titulaire", {**TITULAIRE, "rpps_number": "123"}, "rpps_number", "11 digits"),
        ("wizard-titulaire", {**TITULAIRE, "mobile_number": "12"}, "mobile_number", "valid phone number"),
        ("wizard-titulaire", {**TITULAIRE, "last_name": ""}, "last_name", "required"),
        ("wizard-pharmacy", {**PHARMACY, "name": "  "}, "name", "required"),
        ("wizard-pharmacy", {**PHARMACY, "postcode": "<29200>"}, "postcode", "valid postcode"),
    ],
)
def test_wizard_steps_show_field_errors(client, staff, step, data, field, message):
    client.force_login(staff)
    if step == "wizard-pharmacy":
        client.post(reverse("wizard-titulaire"), TITULAIRE)
    response = client.post(reverse(step), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Pharmacy.objects.exists()


def test_review_without_earlier_steps_goes_back_to_step_one(client, staff):
    client.force_login(staff)
    assert client.get(reverse("wizard-review"))["Location"] == reverse("wizard-titulaire")


def test_wizard_creates_user_then_pharmacy_and_keeps_no_jwt(client, staff, bimedoc_sandbox, sandbox_state):
    client.force_login(staff)
    response = run_wizard(client)
    job = Job.objects.get()
    assert response["Location"] == reverse("onboarding-job", args=[job.public_id])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert [job.steps[s]["status"] for s in ("create_user", "create_pharmacy")] == ["done", "done"]
    pharmacy = Pharmacy.objects.get()
    assert pharmacy.phone_number == "+33145678900"
    assert Membership.objects.get(pharmacy=pharmacy).function == "titulaire"
    user_account = services.user_account(staff)
    pharmacy_account = services.pharmacy_account(pharmacy)
    assert user_account.status == pharmacy_account.status == AccountStatus.ACTIVE
    assert user_account.remote_id == job.steps["create_user"]["remote_id"]
    assert pharmacy_account.remote_id == job.steps["create_pharmacy"]["remote_id"]
    assert user_account.secrets == {}  # the JWT is dropped once the pharmacy exists
    assert sandbox_state()["users"] == 1 and sandbox_state()["pharmacies"] == 1
    calls = OutboundCall.objects.filter(job=job).order_by("created_at")
    assert [c.operation for c in calls] == ["create_user", "create_pharmacy"]
    assert all(c.pharmacy_id == pharmacy.pk and c.user_id == staff.pk for c in calls)
    page = client.get(response["Location"])
    assert "All done." in page.content.decode()


def test_submitting_twice_starts_one_job_and_one_remote_user(client, staff, bimedoc_sandbox, sandbox_state):
    client.force_login(staff)
    client.post(reverse("wizard-titulaire"), TITULAIRE)
    client.post(reverse("wizard-pharmacy"), PHARMACY)
    key = client.get(reverse("wizard-review")).context["key"]
    first = client.post(reverse("wizard-review"), {"key": key})
    second = client.post(reverse("wizard-review"), {"key": key})
    assert first["Location"] == second["Location"]
    assert Job.objects.count() == 1 and Pharmacy.objects.count() == 1
    assert sandbox_state()["users"] == 1


def test_retry_resumes_at_the_failed_step_without_creating_the_user_again(
    client, staff, bimedoc_sandbox, sandbox_state, settings, override_step
):
    settings.BIMEDOC_MAX_RETRIES = 2
    create_user = jobs.step_runner(services.KIND_ONBOARD, "create_user")

    def create_user_then_break_bimedoc(job):
        create_user(job)
        faults.set_profile("bimedoc", faults.FaultProfile(error_rate=1))

    override_step(services.KIND_ONBOARD, "create_user", create_user_then_break_bimedoc)
    client.force_login(staff)
    run_wizard(client)
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert "after 3 attempts" in job.error
    assert job.steps["create_user"]["status"] == "done" and job.steps["create_pharmacy"]["status"] == "failed"
    account = services.user_account(staff)
    assert account.remote_id and account.secrets.get("jwt")  # kept, encrypted, until the pharmacy exists
    page = client.get(reverse("onboarding-job", args=[job.public_id])).content.decode()
    assert "Retry" in page and "did not answer properly" in page

    faults.set_profile("bimedoc", None)
    client.post(reverse("onboarding-job-retry", args=[job.public_id]))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert sandbox_state()["users"] == 1 and sandbox_state()["pharmacies"] == 1
    assert OutboundCall.objects.filter(job=job, operation="create_user").count() == 1
    assert OutboundCall.objects.filter(job=job, operation="create_pharmacy", outcome="server_error").count() == 3
    assert services.user_account(staff).secrets == {}


def test_email_already_on_bimedoc_fails_with_a_readable_reason(client, staff, bimedoc_sandbox, sandbox_client):
    sandbox_client.create_user(NewUser(email=staff.email))
    client.force_login(staff)
    run_wizard(client)
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error == "Bimedoc already has a user with this email address."
    assert "email" in job.payload["field_errors"]
    page = client.get(reverse("onboarding-job", args=[job.public_id])).content.decode()
    assert "Email address" in page and "existe déjà" in page
    assert services.user_account(staff).status == AccountStatus.FAILED


def test_status_json_follows_the_job(client, staff, bimedoc_sandbox):
    client.force_login(staff)
    run_wizard(client)
    job = Job.objects.get()
    data = client.get(reverse("onboarding-job-status", args=[job.public_id])).json()
    assert data["status"] == "succeeded" and data["is_final"] is True
    assert [s["status"] for s in data["steps"]] == ["done", "done"]
    stranger = make_staff("stranger@example.com")
    client.force_login(stranger)
    assert client.get(reverse("onboarding-job-status", args=[job.public_id])).status_code == 404
    assert client.post(reverse("onboarding-job-retry", args=[job.public_id])).status_code == 404


def test_a_user_with_a_bimedoc_account_cannot_start_the_wizard_again(client, staff, bimedoc_sandbox):
    client.force_login(staff)
    run_wizard(client)
    response = client.get(reverse("wizard-titulaire"))
    assert response.status_code == 409
    assert "already has a Bimedoc account" in response.content.decode()
    assert ProviderAccount.objects.filter(user=staff).count() == 1


def test_refused_pharmacy_details_come_back_as_form_field_errors_and_resume(
    client, staff, bimedoc_sandbox, sandbox_state, override_step
):
    # Details that passed the portal's checks but that Bimedoc refuses (here: a blank name).
    create_user = jobs.step_runner(services.KIND_ONBOARD, "create_user")

    def create_user_then_blank_the_name(job):
        create_user(job)
        Pharmacy.objects.filter(pk=job.pharmacy_id).update(name="")
        job.pharmacy.name = ""

    override_step(services.KIND_ONBOARD, "create_user", create_user_then_blank_the_name)
    client.force_login(staff)
    run_wizard(client)
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and job.payload["field_errors"] == {"name": ["Ce champ est obligatoire."]}
    page = client.get(reverse("onboarding-job", args=[job.public_id])).content.decode()
    assert "Correct the details" in page

    form = client.get(reverse("onboarding-job-correct", args=[job.public_id])).context["form"]
    assert "Bimedoc: Ce champ est obligatoire." in form.errors["name"]
    response = client.post(reverse("onboarding-job-correct", args=[job.public_id]), {**PHARMACY, "name": "Pharmacie Nord"})
    assert response["Location"] == reverse("onboarding-job", args=[job.public_id])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Pharmacy.objects.get().name == "Pharmacie Nord"
    assert sandbox_state()["users"] == 1 and sandbox_state()["pharmacies"] == 1


def test_refused_user_details_are_corrected_on_the_person_form(client, staff, bimedoc_sandbox, override_step):
    from providers.sandbox.bimedoc.models import RemoteUser

    create_user = jobs.step_runner(services.KIND_ONBOARD, "create_user")
    first_try = []

    def create_user_with_a_value_bimedoc_refuses(job):
        if not first_try:
            first_try.append(True)
            job.payload["person"]["gender"] = "x"
            Job.objects.filter(pk=job.pk).update(payload=job.payload)
        create_user(job)

    override_step(services.KIND_ONBOARD, "create_user", create_user_with_a_value_bimedoc_refuses)
    client.force_login(staff)
    run_wizard(client)
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and "gender" in job.payload["field_errors"]
    assert job.error.startswith("Bimedoc refused some details: Gender:")
    form = client.get(reverse("onboarding-job-correct", args=[job.public_id])).context["form"]
    assert any(message.startswith("Bimedoc:") for message in form.errors["gender"])
    client.post(reverse("onboarding-job-correct", args=[job.public_id]), {**TITULAIRE, "gender": "m"})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.payload["person"]["gender"] == "m"
    # The correction went to Bimedoc, not into anyone's profile.
    staff.refresh_from_db()
    assert staff.gender == "f"
    remote = RemoteUser.objects.get(pk=services.user_account(staff).remote_id)
    assert remote.gender == "m"
    stranger = make_staff("stranger@example.com")
    client.force_login(stranger)
    assert client.get(reverse("onboarding-job-correct", args=[job.public_id])).status_code == 404


def test_a_refused_sign_up_token_fails_the_pharmacy_step_with_its_own_reason(
    client, staff, bimedoc_sandbox, sandbox_state, override_step
):
    create_user = jobs.step_runner(services.KIND_ONBOARD, "create_user")

    def create_user_then_lose_the_token(job):
        create_user(job)
        account = services.user_account(job.user)
        account.secrets = {"jwt": "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoieCJ9.bm90LXNpZ25lZA"}
        account.save()

    override_step(services.KIND_ONBOARD, "create_user", create_user_then_lose_the_token)
    client.force_login(staff)
    run_wizard(client)
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("Bimedoc refused the titulaire's sign-up token")
    assert sandbox_state()["pharmacies"] == 0
    assert OutboundCall.objects.get(job=job, operation="create_pharmacy").status_code == 401


def test_a_user_whose_set_up_stopped_half_way_is_sent_back_to_it(client, staff, bimedoc_sandbox, settings, override_step):
    settings.BIMEDOC_MAX_RETRIES = 0
    create_user = jobs.step_runner(services.KIND_ONBOARD, "create_user")

    def create_user_then_break_bimedoc(job):
        create_user(job)
        faults.set_profile("bimedoc", faults.FaultProfile(error_rate=1))

    override_step(services.KIND_ONBOARD, "create_user", create_user_then_break_bimedoc)
    client.force_login(staff)
    run_wizard(client)
    assert Job.objects.get().status == JobStatus.FAILED
    response = client.get(reverse("wizard-titulaire"))
    assert response.status_code == 409
    assert "did not finish: retry that one instead" in response.content.decode()
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert reverse("onboarding-job", args=[Job.objects.get().public_id]) in dashboard
