"""Adding a colleague is an invitation: the person consents before they join and get a Bimedoc user in the pharmacy."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from onboarding import invitations
from onboarding.models import AccountStatus, Invitation, InvitationStatus, Job, JobStatus, Membership, User
from providers.bimedoc import services
from providers.sandbox.bimedoc.models import RemoteUser
from tests.accounts import links_in, path_of

from .conftest import PASSWORD, make_staff
from .test_pharmacy_page import COLLEAGUE, onboarded

pytestmark = pytest.mark.django_db


def invite(client, pharmacy, **change):
    return client.post(reverse("bimedoc-add-colleague", args=[pharmacy.public_id]), {**COLLEAGUE, **change}, follow=True)


def invitation_link(to):
    (message,) = [m for m in mail.outbox if m.to == [to]]
    (link,) = [link for link in links_in(message.body) if "/invitations/" in link]
    return path_of(link)


def test_a_new_colleague_is_invited_and_nothing_exists_for_them_until_they_accept(client, bimedoc_sandbox, sandbox_state):
    titulaire, pharmacy = onboarded()
    client.force_login(titulaire)
    response = invite(client, pharmacy)
    assert response.redirect_chain[-1][0] == pharmacy.get_absolute_url()
    assert "Invitation sent to lucas@example.com" in response.content.decode()
    assert "lucas@example.com" in response.content.decode()  # listed among the invitations, pending
    assert not User.objects.filter(email="lucas@example.com").exists()
    assert not Job.objects.filter(kind=services.KIND_ADD_COLLEAGUE).exists()
    assert sandbox_state()["users"] == 1

    client.logout()
    link = invitation_link("lucas@example.com")
    page = client.get(link)
    assert page.context["mode"] == "signup"
    assert page.context["form"]["first_name"].value() == "Lucas"  # what the titulaire typed, offered to them
    accepted = client.post(
        link,
        {"action": "accept", "first_name": "Lucas", "last_name": "Bernard", "gender": "m", "mobile_number": "",
         "rpps_number": "", "password1": PASSWORD, "password2": PASSWORD},
    )  # fmt: skip
    job = Job.objects.get(kind=services.KIND_ADD_COLLEAGUE)
    assert accepted["Location"] == reverse("onboarding-job", args=[job.public_id])
    assert job.status == JobStatus.SUCCEEDED, job.error
    colleague = User.objects.get(email="lucas@example.com")
    assert colleague.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=colleague).verified  # the invitation link proved the address
    assert Membership.objects.get(user=colleague, pharmacy=pharmacy).function == "adjoint"
    remote = RemoteUser.objects.get(pk=services.user_account(colleague).remote_id)
    assert str(remote.pharmacy_id) == services.pharmacy_account(pharmacy).remote_id and remote.function == "adjoint"
    assert client.post(reverse("bimedoc-open", args=[pharmacy.public_id])).status_code == 302  # logged in, can open Bimedoc


def test_the_titulaire_cannot_tell_whether_the_email_has_an_account(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    make_staff("existing@example.com", first_name="Eve")
    client.force_login(titulaire)
    answers = []
    for email in ("existing@example.com", "nobody@example.com"):
        response = invite(client, pharmacy, email=email)
        answers.append(
            (
                response.status_code,
                response.redirect_chain,
                [str(m).replace(email, "EMAIL") for m in response.context["messages"]],
            )
        )
    assert answers[0] == answers[1]
    assert Invitation.objects.filter(status=InvitationStatus.PENDING).count() == 2
    assert not Membership.objects.filter(user__email="existing@example.com").exists()
    assert not Job.objects.filter(kind=services.KIND_ADD_COLLEAGUE).exists()


def test_an_existing_user_accepts_from_the_dashboard_and_gets_a_bimedoc_user_in_the_pharmacy(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    lucas = make_staff("lucas@example.com", first_name="Luc", rpps_number="")
    client.force_login(titulaire)
    invite(client, pharmacy)
    client.force_login(lucas)
    dashboard = client.get(reverse("dashboard"))
    (pending,) = dashboard.context["invitations"]
    assert pending.pharmacy == pharmacy
    response = client.post(reverse("invitation-answer", args=[pending.public_id]), {"action": "accept"})
    job = Job.objects.get(kind=services.KIND_ADD_COLLEAGUE)
    assert response["Location"] == reverse("onboarding-job", args=[job.public_id])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Membership.objects.get(user=lucas, pharmacy=pharmacy).function == "adjoint"
    # Their own details win over what the titulaire typed; their profile is left as it was.
    assert job.payload["person"]["first_name"] == "Luc"
    remote = RemoteUser.objects.get(pk=services.user_account(lucas).remote_id)
    assert remote.first_name == "Luc"
    lucas.refresh_from_db()
    assert lucas.first_name == "Luc" and lucas.rpps_number == ""
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.ACCEPTED and pending.job == job


def test_an_existing_user_declines_from_the_email_and_the_link_then_says_so(client, bimedoc_sandbox, sandbox_state):
    titulaire, pharmacy = onboarded()
    make_staff("lucas@example.com")
    client.force_login(titulaire)
    invite(client, pharmacy)
    client.logout()
    link = invitation_link("lucas@example.com")
    page = client.get(link)
    assert page.context["mode"] == "login"  # accepting needs their account; declining does not
    declined = client.post(link, {"action": "decline"})
    assert "You declined the invitation to Pharmacie du Port. Nothing was created" in declined.content.decode()
    assert Invitation.objects.get().status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(user__email="lucas@example.com").exists()
    assert not Job.objects.filter(kind=services.KIND_ADD_COLLEAGUE).exists()
    assert sandbox_state()["users"] == 1
    again = client.get(link)
    assert again.status_code == 410
    assert "You declined this invitation" in again.content.decode()
    client.force_login(titulaire)
    assert "Declined" in client.get(pharmacy.get_absolute_url()).content.decode()


def test_an_expired_invitation_says_what_to_do_and_cannot_be_accepted(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    lucas = make_staff("lucas@example.com")
    client.force_login(titulaire)
    invite(client, pharmacy)
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    client.force_login(lucas)
    response = client.get(invitation_link("lucas@example.com"))
    assert response.status_code == 410
    assert "This invitation expired on" in response.content.decode()
    assert "Ask Claire Dupont to send you a new one" in response.content.decode()
    assert client.get(reverse("dashboard")).context["invitations"] == []
    assert not Membership.objects.filter(user=lucas, pharmacy=pharmacy).exists()


def test_a_tampered_invitation_link_is_refused_with_a_page(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    client.force_login(titulaire)
    invite(client, pharmacy)
    link = invitation_link("lucas@example.com")
    response = client.get(link[:-3] + "xx/")
    assert response.status_code == 404
    assert "This invitation link does not work" in response.content.decode()


def test_someone_with_a_bimedoc_account_elsewhere_cannot_accept_and_nothing_is_created(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    other, _other_pharmacy = onboarded("lucas@example.com", "Pharmacie du Lac")
    client.force_login(titulaire)
    invite(client, pharmacy)
    client.force_login(other)
    response = client.post(invitation_link("lucas@example.com"), {"action": "accept"}, follow=True)
    assert "already has a Bimedoc account" in response.content.decode()
    assert not Membership.objects.filter(user=other, pharmacy=pharmacy).exists()
    assert Invitation.objects.get().status == InvitationStatus.PENDING
    assert not Job.objects.filter(kind=services.KIND_ADD_COLLEAGUE).exists()


def test_the_link_opened_while_logged_in_as_someone_else_says_whom_it_is_for(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    make_staff("lucas@example.com")
    client.force_login(titulaire)
    invite(client, pharmacy)
    response = client.post(invitation_link("lucas@example.com"), {"action": "accept"})
    assert "This invitation is for lucas@example.com, and you are logged in as claire@example.com" in response.content.decode()
    assert not Membership.objects.filter(user__email="lucas@example.com").exists()


def test_an_unverified_titulaire_cannot_invite_and_is_told_why(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    EmailAddress.objects.filter(user=titulaire).update(verified=False)
    client.force_login(titulaire)
    response = invite(client, pharmacy)
    assert response.status_code == 403
    assert "Verify your email address first" in response.content.decode()
    assert "Send the verification link again" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_refused_colleague_detail_is_corrected_in_the_job_not_in_their_profile(client, bimedoc_sandbox):
    titulaire, pharmacy = onboarded()
    lucas = make_staff("lucas@example.com", first_name="Luc")
    invitation = services.add_colleague(pharmacy=pharmacy, by=titulaire, function="adjoint", **{
        k: v for k, v in COLLEAGUE.items() if k != "function"})  # fmt: skip
    account = services.pharmacy_account(pharmacy)
    remote_id, account.remote_id = account.remote_id, "999999"  # a pharmacy Bimedoc does not know: refused
    account.save()
    invitations.accept(invitation, user=lucas, start_job=services.start_colleague_job)
    job = Job.objects.get(kind=services.KIND_ADD_COLLEAGUE)
    assert job.status == JobStatus.FAILED and "pharmacy" in job.payload["field_errors"]
    account.remote_id = remote_id
    account.save()

    job.payload["field_errors"] = {"first_name": ["Ce champ est obligatoire."]}
    job.save()
    client.force_login(titulaire)
    response = client.post(
        reverse("onboarding-job-correct", args=[job.public_id]),
        {"first_name": "Lucas", "last_name": "Bernard", "gender": "m", "mobile_number": "", "rpps_number": ""},
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.payload["person"]["first_name"] == "Lucas"
    lucas.refresh_from_db()
    assert lucas.first_name == "Luc"  # the titulaire corrected the request, not Lucas's profile
    remote = RemoteUser.objects.get(pk=services.user_account(lucas).remote_id)
    assert remote.first_name == "Lucas"
    assert services.user_account(lucas).status == AccountStatus.ACTIVE
