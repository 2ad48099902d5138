import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from onboarding import selectors, services
from onboarding.models import Function, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def pharmacy_with_titulaire():
    titulaire = services.register_staff(email="t@example.com", password="pw-123456789", first_name="Tina")
    pharmacy = services.create_pharmacy(titulaire=titulaire, name="Pharmacie du Centre", city="Lyon")
    return pharmacy, titulaire


def test_create_pharmacy_makes_its_creator_titulaire(pharmacy_with_titulaire):
    pharmacy, titulaire = pharmacy_with_titulaire
    membership = Membership.objects.get(pharmacy=pharmacy)
    assert membership.user == titulaire
    assert membership.function == Function.TITULAIRE


def test_create_pharmacy_requires_a_name():
    user = services.register_staff(email="u@example.com", password=None)
    with pytest.raises(ValidationError) as err:
        services.create_pharmacy(titulaire=user, name="")
    assert "name" in err.value.message_dict
    assert not Membership.objects.exists()


def test_last_titulaire_can_be_neither_removed_nor_demoted(pharmacy_with_titulaire):
    pharmacy, titulaire = pharmacy_with_titulaire
    membership = Membership.objects.get(pharmacy=pharmacy, user=titulaire)
    with pytest.raises(ValidationError):
        services.remove_member(membership)
    with pytest.raises(ValidationError):
        services.change_function(membership, Function.ADJOINT)
    membership.refresh_from_db()
    assert membership.function == Function.TITULAIRE


def test_titulaire_can_step_down_once_another_is_appointed(pharmacy_with_titulaire):
    pharmacy, titulaire = pharmacy_with_titulaire
    colleague = services.register_staff(email="c@example.com", password=None)
    services.add_member(pharmacy=pharmacy, user=colleague, function=Function.TITULAIRE)
    services.change_function(Membership.objects.get(pharmacy=pharmacy, user=titulaire), Function.ADJOINT)
    assert list(pharmacy.memberships.filter(function=Function.TITULAIRE).values_list("user__email", flat=True)) == [
        "c@example.com"
    ]


def test_add_member_rejects_unknown_function(pharmacy_with_titulaire):
    pharmacy, _ = pharmacy_with_titulaire
    user = services.register_staff(email="x@example.com", password=None)
    with pytest.raises(ValidationError):
        services.add_member(pharmacy=pharmacy, user=user, function="owner")


def test_require_member_limits_to_members_and_functions(pharmacy_with_titulaire):
    pharmacy, titulaire = pharmacy_with_titulaire
    stranger = services.register_staff(email="s@example.com", password=None)
    with pytest.raises(PermissionDenied):
        services.require_member(stranger, pharmacy)
    assert services.require_member(titulaire, pharmacy, functions=[Function.TITULAIRE]).user == titulaire
    trainee = services.register_staff(email="st@example.com", password=None)
    services.add_member(pharmacy=pharmacy, user=trainee, function=Function.STAGIAIRE)
    with pytest.raises(PermissionDenied):
        services.require_member(trainee, pharmacy, functions=[Function.TITULAIRE, Function.ADJOINT])


def test_pharmacy_page_is_only_for_members(client, pharmacy_with_titulaire):
    pharmacy, titulaire = pharmacy_with_titulaire
    stranger = services.register_staff(email="s@example.com", password="pw-123456789")
    client.force_login(stranger)
    assert client.get(pharmacy.get_absolute_url()).status_code == 404
    client.force_login(titulaire)
    response = client.get(pharmacy.get_absolute_url())
    assert response.status_code == 200
    assert "Pharmacie du Centre" in response.content.decode()
    assert selectors.pharmacies_of(stranger).count() == 0


def test_public_id_is_a_stable_uuid_distinct_from_the_pk():
    user = services.register_staff(email="p@example.com", password=None)
    public_id = user.public_id
    user.refresh_from_db()
    assert user.public_id == public_id
    assert str(user.pk) != str(public_id)
