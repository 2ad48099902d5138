"""Per-app settings (portal/appconf.py): where a value comes from, and refusing bad ones at start-up."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.appconf import AppSettings, Setting, check_app_settings


@pytest.fixture
def conf():
    conf = AppSettings(
        "EXAMPLEAPP",
        [
            Setting("RETRIES", 5, int, "Tries."),
            Setting("URL", "https://example.org", str, debug_default="http://sandbox"),
            Setting("KEY", "", str, "The partner key.", required=True),
            Setting("RATE", 1.0, float, check=lambda v, c: None if v >= 0 else "must not be negative"),
        ],
    )
    yield conf
    AppSettings.registry.remove(conf)


def test_default_then_environment_then_django_setting(conf, monkeypatch, settings):
    assert conf.RETRIES == 5
    monkeypatch.setenv("EXAMPLEAPP_RETRIES", "7")
    conf.forget()
    assert conf.RETRIES == 7
    settings.EXAMPLEAPP_RETRIES = 9
    assert conf.RETRIES == 9


def test_debug_default_only_in_a_debug_process(conf, settings):
    settings.DEBUG_PROCESS = True
    assert conf.URL == "http://sandbox"
    settings.DEBUG_PROCESS = False
    assert conf.URL == "https://example.org"


def test_unknown_name_is_an_attribute_error(conf):
    with pytest.raises(AttributeError):
        conf.NOPE


def test_production_refuses_a_missing_required_setting(conf, settings):
    settings.DEBUG_PROCESS = False
    with pytest.raises(ImproperlyConfigured, match="EXAMPLEAPP_KEY must be set"):
        conf.check_at_start_up()
    settings.EXAMPLEAPP_KEY = "k"
    conf.check_at_start_up()


def test_a_value_its_check_refuses_is_reported_by_the_system_checks(conf, settings, monkeypatch):
    settings.EXAMPLEAPP_KEY = "k"
    monkeypatch.setenv("EXAMPLEAPP_RATE", "-1")
    conf.forget()
    errors = [e for e in check_app_settings() if e.obj == "EXAMPLEAPP"]
    assert [e.msg for e in errors] == ["EXAMPLEAPP_RATE: must not be negative"]


def test_a_value_of_the_wrong_type_is_reported(conf, monkeypatch):
    monkeypatch.setenv("EXAMPLEAPP_RETRIES", "many")
    conf.forget()
    assert any("EXAMPLEAPP_RETRIES" in p for p in conf.validate())
