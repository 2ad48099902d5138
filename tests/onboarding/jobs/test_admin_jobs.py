"""Admin ways out for stopped jobs: retry many at once, or settle a create whose outcome is unknown by its remote id."""

from django.urls import reverse

from onboarding.models import AccountStatus, Job, JobStatus
from providers.bimedoc import services
from providers.sandbox.bimedoc.models import RemotePharmacy, RemoteUser

from .test_runner import PHARMACY, USER, fault, fault_on_step, run, start

CHANGELIST = "admin:onboarding_job_changelist"


def test_admin_retries_failed_and_checked_jobs_through_the_same_service(
    admin_client, bimedoc_sandbox, sandbox_state, settings, short_read_timeout
):
    settings.BIMEDOC_MAX_RETRIES = 0
    fault(error_rate=1)
    failed = start("failed@example.com")
    fault()
    assert failed.status == JobStatus.FAILED
    # Stalled before acting, so the pharmacy is not there: the administrator checks, then retries.
    with fault_on_step(PHARMACY, timeout_before_rate=1, stall_seconds=short_read_timeout):
        attention = start("attention@example.com")
    assert attention.status == JobStatus.NEEDS_ATTENTION
    done = start("done@example.com")
    assert done.status == JobStatus.SUCCEEDED
    assert RemotePharmacy.objects.count() == 1
    changelist = admin_client.get(reverse(CHANGELIST), {"status__exact": "needs_attention"}).content.decode()
    assert "not sent again" in changelist  # the reason, in the list

    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "retry_jobs", "_selected_action": [failed.pk, attention.pk, done.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "2 job(s) will be tried again." in page and "1 job(s) left as they are" in page
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses == {failed.pk: JobStatus.SUCCEEDED, attention.pk: JobStatus.SUCCEEDED, done.pk: JobStatus.SUCCEEDED}
    state = sandbox_state()
    assert (state["users"], state["pharmacies"], state["pharmacies_created_twice"]) == (3, 3, 0)


def test_admin_settles_a_pharmacy_that_landed_by_its_id_and_the_job_finishes(
    admin_client, bimedoc_sandbox, sandbox_state
):
    with fault_on_step(PHARMACY, reset_rate=1):
        job = start()
    assert job.status == JobStatus.NEEDS_ATTENTION
    change = admin_client.get(reverse("admin:onboarding_job_change", args=[job.pk])).content.decode()
    settle_url = reverse("admin:onboarding_job_settle", args=[job.pk])
    assert settle_url in change
    form = admin_client.get(settle_url).content.decode()
    assert "remote_pharmacy_id" in form and "remote_user_id" not in form and "not sent again" in form
    requests_before = sandbox_state()["requests"]

    remote = RemotePharmacy.objects.get()
    response = admin_client.post(settle_url, {"remote_pharmacy_id": str(remote.pk)})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.steps[PHARMACY]["resolved_by"] == "root@example.com"
    pharmacy_account = services.pharmacy_account(job.pharmacy)
    assert pharmacy_account.remote_id == str(remote.pk) and pharmacy_account.status == AccountStatus.ACTIVE
    user_account = services.user_account(job.user)
    assert user_account.status == AccountStatus.ACTIVE and user_account.secrets == {}
    assert sandbox_state()["requests"] == requests_before  # nothing sent again
    assert settle_url not in admin_client.get(reverse("admin:onboarding_job_change", args=[job.pk])).content.decode()


def test_settling_a_user_without_its_token_asks_for_the_pharmacy_too(
    admin_client, bimedoc_sandbox, sandbox_state, unpublished, short_read_timeout
):
    job = start()
    fault(timeout_after_rate=1, stall_seconds=short_read_timeout)
    run(job)
    fault()
    job = run(job)
    assert job.status == JobStatus.NEEDS_ATTENTION and job.steps[USER]["status"] == "needs_attention"
    settle_url = reverse("admin:onboarding_job_settle", args=[job.pk])
    remote_user = RemoteUser.objects.get()

    page = admin_client.post(settle_url, {"remote_user_id": str(remote_user.pk), "remote_pharmacy_id": ""})
    assert page.status_code == 200
    assert "without the user&#x27;s sign-up token the portal cannot create it" in page.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.NEEDS_ATTENTION

    admin_client.post(settle_url, {"remote_user_id": str(remote_user.pk), "remote_pharmacy_id": "4242"})
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING  # resumed (its task is not published in this test: run it)
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED
    assert services.user_account(job.user).remote_id == str(remote_user.pk)
    assert services.pharmacy_account(job.pharmacy).remote_id == "4242"
    assert sandbox_state()["duplicate_user_attempts"] == 1


def test_settle_page_refuses_a_job_that_is_not_stopped(admin_client, bimedoc_sandbox):
    job = start()
    assert job.status == JobStatus.SUCCEEDED
    page = admin_client.get(reverse("admin:onboarding_job_settle", args=[job.pk])).content.decode()
    assert "Nothing to settle" in page
