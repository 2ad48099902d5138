"""``manage.py import_pharmacies``: validation of every row, onboarding of the valid ones, idempotent re-runs."""

import pytest
from django.core.management import CommandError, call_command

from onboarding.models import Job, JobStatus, Pharmacy, User
from providers.bimedoc import services
from providers.sandbox import faults

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,mobile_number,rpps_number,gender,name,phone_number,street,city,postcode\n"
GOOD = [
    "anne@example.com,Anne,Martin,06 12 34 56 78,10101234567,f,Pharmacie A,01 45 67 89 00,1 rue A,Lyon,69001\n",
    "bruno@example.com,Bruno,Petit,,,m,Pharmacie B,,,Brest,29200\n",
]
BAD = [
    "not-an-email,Carla,Roux,,,f,Pharmacie C,,,,\n",
    "dora@example.com,Dora,Blanc,12,123,x,,,,,\n",
    "anne@example.com,Anne,Martin,,,f,Pharmacie A bis,,,,\n",
]


def write(tmp_path, lines, header=HEADER):
    path = tmp_path / "pharmacies.csv"
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


def run(path, *args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import_pharmacies", str(path), *args, stdout=out, stderr=err)
        error = None
    except CommandError as exc:
        error = str(exc)
    return out.getvalue(), err.getvalue(), error


def test_all_row_errors_are_reported_at_once_and_valid_rows_onboarded(tmp_path, bimedoc_sandbox, sandbox_state):
    out, err, error = run(write(tmp_path, GOOD + BAD))
    assert "5 rows: 2 valid, 3 with errors." in out
    assert "line 4: email: Enter a valid email address." in err
    assert "line 5: mobile_number:" in err and "line 5: rpps_number:" in err and "line 5: gender:" in err
    assert "line 5: name:" in err
    assert "line 6: email: also on line 2" in err
    assert "2 started" in out and "2 done" in out and "3 invalid" in out
    assert error == "3 invalid rows, 0 failed onboardings (re-run to resume)."
    assert sandbox_state()["pharmacies"] == 2
    anne = User.objects.get(email="anne@example.com")
    assert not anne.has_usable_password() and anne.mobile_number == "+33612345678"
    assert services.pharmacy_account(Pharmacy.objects.get(name="Pharmacie A")).is_active


def test_rerunning_the_same_file_skips_what_is_done(tmp_path, bimedoc_sandbox, sandbox_state):
    path = write(tmp_path, GOOD)
    assert run(path)[2] is None
    out, _err, error = run(path)
    assert error is None
    assert "0 started" in out and "2 already done" in out
    assert Job.objects.count() == 2 and Pharmacy.objects.count() == 2
    assert sandbox_state()["users"] == 2 and sandbox_state()["pharmacies"] == 2


def test_rerun_resumes_failed_rows(tmp_path, bimedoc_sandbox, sandbox_state, settings):
    settings.BIMEDOC_MAX_RETRIES = 0
    path = write(tmp_path, GOOD[:1])
    faults.set_profile("bimedoc", faults.FaultProfile(error_rate=1))
    out, err, error = run(path)
    assert "1 failed" in out and "line 2 (anne@example.com): Bimedoc did not answer" in err
    assert Job.objects.get().status == JobStatus.FAILED
    faults.set_profile("bimedoc", None)
    out, _err, error = run(path)
    assert error is None and "1 resumed" in out and "1 done" in out
    assert sandbox_state()["users"] == 1


def test_dry_run_validates_only(tmp_path, bimedoc_sandbox, sandbox_state):
    out, _err, error = run(write(tmp_path, GOOD), "--dry-run")
    assert "2 valid" in out and error is None
    assert not Job.objects.exists() and sandbox_state()["users"] == 0


@pytest.mark.parametrize(
    "header,message",
    [
        ("email,first_name,last_name,gender\n", "line 1: name: Missing column (required)."),
        ("email,first_name,last_name,gender,name,fax\n", "line 1: fax: Unknown column."),
    ],
)
def test_wrong_columns_are_refused_before_anything_happens(tmp_path, header, message):
    _out, _err, error = run(write(tmp_path, [], header=header))
    assert message in error
    assert not Job.objects.exists()


def test_semicolon_separated_files_are_read(tmp_path, bimedoc_sandbox):
    path = write(tmp_path, [GOOD[1].replace(",", ";")], header=HEADER.replace(",", ";"))
    out, _err, error = run(path)
    assert error is None and "1 done" in out
