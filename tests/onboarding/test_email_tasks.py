"""Emails with a secret link are queued with ids only: the key is minted and the link built in the task."""

import pytest
from celery.app.task import Task
from django.core import mail
from django.urls import reverse

from onboarding import invitations, services
from onboarding.models import Function, Pharmacy
from tests.accounts import links_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """What each task call would put on the broker: (task name, args, kwargs)."""
    sent = []
    original = Task.apply_async

    def record(self, args=None, kwargs=None, **options):
        sent.append((self.name, tuple(args or ()), dict(kwargs or {})))
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", record)
    return sent


def secret_part(link: str) -> str:
    """The key or token in a link (its last path segment)."""
    return link.rstrip("/").rsplit("/", 1)[-1]


def assert_no_secret_in(messages, links):
    for name, args, kwargs in messages:
        flat = repr((args, kwargs))
        for link in links:
            assert link not in flat, name
            assert secret_part(link) not in flat, name
        assert "http" not in flat, name


def test_verification_email_task_carries_the_address_id_only(client, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"),
            {
                "email": "new@example.com",
                "first_name": "N",
                "last_name": "E",
                "gender": "f",
                "password1": "a-long-Pass-phrase-42",
                "password2": "a-long-Pass-phrase-42",
            },
        )
    (task,) = [m for m in published if m[0].startswith("onboarding.tasks.")]
    assert task[0] == "onboarding.tasks.send_email_confirmation"
    assert set(task[2]) == {"email_address_id", "signup", "language"}
    links = [link for link in links_in(mail.outbox[0].body) if "/confirm-email/" in link]
    assert links
    assert_no_secret_in(published, links)


def test_password_reset_task_carries_the_user_id_only(client, published, django_capture_on_commit_callbacks):
    user = services.register_staff(email="reset@example.com", password="a-long-Pass-phrase-42")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "reset@example.com"})
    (task,) = [m for m in published if m[0].startswith("onboarding.tasks.")]
    assert task[0] == "onboarding.tasks.send_password_reset"
    assert task[2]["user_id"] == user.pk and set(task[2]) == {"user_id", "email_address_id", "language"}
    links = [link for link in links_in(mail.outbox[0].body) if "/password/reset/key/" in link]
    assert links
    assert_no_secret_in(published, links)


def test_invitation_task_carries_the_invitation_id_only(published, django_capture_on_commit_callbacks):
    titulaire = services.register_staff(email="t@example.com", password=None, email_verified=True)
    pharmacy = services.create_pharmacy(titulaire=titulaire, name="Pharmacie Test")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitations.invite(
            pharmacy=pharmacy, by=titulaire, email="colleague@example.com", function=Function.ADJOINT, details={}
        )
    (task,) = [m for m in published if m[0].startswith("onboarding.tasks.")]
    assert task == ("onboarding.tasks.send_invitation", (), {"invitation_id": invitation.pk, "language": "en"})
    (link,) = [link for link in links_in(mail.outbox[0].body) if "/invitations/" in link]
    assert invitations.from_token(secret_part(link)) == invitation
    assert_no_secret_in(published, [link])


def test_an_email_allauth_would_send_with_a_secret_is_refused():
    from onboarding.adapters import AccountAdapter

    with pytest.raises(ValueError, match="login_code"):
        AccountAdapter().send_mail("account/email/login_code", "a@example.com", {"code": "123456"})
    assert mail.outbox == []


def test_answered_invitations_are_not_emailed_again(django_capture_on_commit_callbacks):
    from onboarding import emails

    titulaire = services.register_staff(email="t@example.com", password=None)
    pharmacy = Pharmacy.objects.create(name="P")
    invitation = invitations.invite(pharmacy=pharmacy, by=titulaire, email="c@example.com", function="adjoint", details={})
    invitations.decline(invitation)
    assert emails.invitation(invitation.pk) is None
