"""Bulk onboarding upload: how long N rows take to validate, and how fast the progress page answers.

Prints medians over ``--runs`` of:

- ``parse``: the shared service alone (``bulk.parse``, what ``import_pharmacies`` and the admin both run);
- ``upload``: an administrator's POST of the file to the admin upload page (Django test client, no network),
  with one bad row at the end so that every row is checked and nothing starts;
- ``re-upload``: the same, when every row's job exists already (the batched look-ups find them all);
- ``progress``: the progress page and its JSON (polled every 2 s by the page) for an upload of N rows.

Needs PostgreSQL and Redis (its own database and Redis database, emptied first). Runs with debug
off, as in production (``--debug`` for on):

    .venv/bin/python bench/bulk_import.py --rows 5000 --runs 5 \\
        --database-url postgres://postgres@127.0.0.1:5432/portal_bench_bulk --cache-url rediscache://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import flush_redis, production_secrets, reset_database  # noqa: E402

HEADER = "email,first_name,last_name,mobile_number,rpps_number,gender,name,phone_number,street,city,postcode\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows in the file (default 5000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each measure; medians are reported (default 5)")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_bulk")
    )
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "rediscache://127.0.0.1:6379/15"))
    parser.add_argument("--debug", action="store_true", help="run with debug on (default: off, as in production)")
    return parser.parse_args(argv)


def make_file(rows: int, bad_last: bool) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        gender = "x" if bad_last and i == rows - 1 else "fm"[i % 2]
        lines.append(
            f"titulaire{i}@example.com,Prénom{i},Nom{i},06 12 34 {i % 100:02d} 78,,{gender},Pharmacie {i},"
            f"01 45 67 89 00,{i} rue de la Gare,Lyon,69002\n"
        )
    return "".join(lines).encode()


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None):
    args = parse_args(argv)
    reset_database(args.database_url)
    flush_redis(args.cache_url)
    if args.debug:
        os.environ["DJANGO_DEBUG"] = "true"
    else:
        # The test client's requests are for "testserver", over plain HTTP.
        os.environ.update(production_secrets(), ALLOWED_HOSTS="testserver")
    os.environ.update(
        SANDBOX_ENABLED="true",
        DATABASE_URL=args.database_url,
        CACHE_URL=args.cache_url,
        CELERY_TASK_ALWAYS_EAGER="true",
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    import django

    django.setup()
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # the upload is refused (400) on purpose
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from onboarding.models import Job, JobStatus, User
    from providers.bimedoc import bulk
    from providers.bimedoc.models import BulkUpload, BulkUploadRow, RowOutcome, UploadStatus

    call_command("migrate", verbosity=0)
    if not args.debug:
        call_command("collectstatic", interactive=False, verbosity=0)  # as scripts/up.sh does
    admin = User.objects.create_superuser(email="bench-admin@example.com", password="bench-Pass-phrase-42")
    # Production admin is behind a second factor: the administrator has one enrolled.
    TOTP.activate(admin, generate_totp_secret())
    client = Client()
    client.force_login(admin)
    data = make_file(args.rows, bad_last=True)
    print(f"{args.rows} rows, {len(data) / 1e6:.2f} MB, {args.runs} runs each (medians)")

    parse_s, rows = timed(lambda: bulk.parse(data), args.runs)
    assert sum(1 for r in rows if r.problems) == 1
    print(f"  parse      {parse_s:6.2f} s  ({args.rows / parse_s:,.0f} rows/s)")

    def post():
        response = client.post(
            reverse("admin:bimedoc_bulkupload_add"), {"file": SimpleUploadedFile("bench.csv", data, content_type="text/csv")}
        )
        assert response.status_code == 400, (response.status_code, response.get("Location"))
        return response

    upload_s, _response = timed(post, args.runs)
    assert not Job.objects.exists()
    print(f"  upload     {upload_s:6.2f} s  (admin POST, every row checked, nothing started)")

    # Every row's job exists (a second upload of a file that was onboarded): the look-ups find them in batches.
    Job.objects.bulk_create(
        [
            Job(kind="bimedoc.onboard_pharmacy", status=JobStatus.SUCCEEDED, idempotency_key=row.idempotency_key)
            for row in rows
            if not row.problems
        ],
        batch_size=1000,
    )
    reupload_s, _response = timed(post, args.runs)
    print(f"  re-upload  {reupload_s:6.2f} s  (every row's job found)")

    upload = BulkUpload.objects.create(
        uploaded_by=admin, file_name="bench.csv", size=len(data), sha256="", status=UploadStatus.STARTED, row_count=args.rows
    )
    jobs = list(Job.objects.order_by("pk"))
    BulkUploadRow.objects.bulk_create(
        [
            BulkUploadRow(upload=upload, line=i + 2, email=f"titulaire{i}@example.com", outcome=RowOutcome.STARTED, job=job)
            for i, job in enumerate(jobs)
        ],
        batch_size=1000,
    )
    page_url = reverse("admin:bimedoc_bulkupload_progress", args=[upload.pk])
    json_url = reverse("admin:bimedoc_bulkupload_progress_json", args=[upload.pk])
    page_s, _ = timed(lambda: client.get(page_url), args.runs * 4)
    json_s, _ = timed(lambda: client.get(json_url), args.runs * 4)
    print(f"  progress   page {page_s * 1000:6.0f} ms, JSON {json_s * 1000:6.0f} ms  ({len(jobs)} rows with jobs)")


if __name__ == "__main__":
    main()
