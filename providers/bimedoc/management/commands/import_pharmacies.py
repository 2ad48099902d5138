"""Bulk onboarding: ``manage.py import_pharmacies FILE.csv``."""

import time
from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from onboarding.models import Job, JobStatus
from providers.bimedoc import bulk


class Command(BaseCommand):
    help = (
        "Onboard pharmacies from a CSV file (columns: email, first_name, last_name, mobile_number, rpps_number, "
        "gender, name, phone_number, street, city, postcode). Every row is validated first and all errors are "
        "reported; valid rows are onboarded (on the Celery workers when a broker is set). Re-running the same file "
        "skips what is done and resumes what failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate only; onboard nothing.")
        parser.add_argument("--no-wait", action="store_true", help="With workers: do not wait for the jobs to finish.")
        parser.add_argument("--timeout", type=float, default=600, help="Seconds to wait for the workers (default 600).")

    def handle(self, *args, file, dry_run, no_wait, timeout, **options):
        try:
            rows = bulk.read_rows(file)
        except bulk.FileError as exc:
            raise CommandError(f"{file}: {exc}")
        invalid = [row for row in rows if row.errors]
        valid = [row for row in rows if not row.errors]
        for row in invalid:
            for error in row.errors:
                self.stderr.write(f"line {row.number}: {error}")
        self.stdout.write(f"{len(rows)} rows: {len(valid)} valid, {len(invalid)} with errors.")
        if dry_run or not valid:
            if invalid:
                raise CommandError(f"{len(invalid)} rows have errors.")
            return

        outcomes = Counter()
        jobs = []
        in_process = settings.CELERY_TASK_ALWAYS_EAGER
        label = "Onboarding" if in_process else "Queueing"
        for row in tqdm(valid, desc=label, unit="pharmacy"):
            outcome, job = bulk.onboard(row)
            outcomes[outcome] += 1
            jobs.append((row, job))
        if not in_process and not no_wait:
            self._wait([job.pk for _row, job in jobs], timeout)

        final = Counter()
        failures = []
        for row, job in jobs:
            job.refresh_from_db()
            final[job.status] += 1
            if job.status in (JobStatus.FAILED, JobStatus.NEEDS_ATTENTION):
                failures.append((row, job))
        for row, job in failures:
            self.stderr.write(f"line {row.number} ({row.email}): {job.error}")
        self.stdout.write(
            "Summary: "
            + ", ".join(
                [
                    f"{outcomes['started']} started",
                    f"{outcomes['resumed']} resumed",
                    f"{outcomes['skipped']} already done",
                    f"{outcomes['in_progress']} already in progress",
                    f"{outcomes['needs_attention']} waiting for an administrator",
                    f"{final[JobStatus.SUCCEEDED]} done",
                    f"{len(failures)} failed",
                    f"{sum(final[s] for s in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING))} still running",
                    f"{len(invalid)} invalid",
                ]
            )
        )
        if invalid or failures:
            raise CommandError(f"{len(invalid)} invalid rows, {len(failures)} failed onboardings (re-run to resume).")

    def _wait(self, job_ids, timeout):
        """Follow the workers with a progress bar until every job is final (or the timeout)."""
        deadline = time.monotonic() + timeout
        with tqdm(total=len(job_ids), desc="Onboarding", unit="pharmacy") as bar:
            done = 0
            while done < len(job_ids) and time.monotonic() < deadline:
                now_done = Job.objects.filter(pk__in=job_ids, status__in=Job.FINAL_STATUSES).count()
                bar.update(now_done - done)
                done = now_done
                if done < len(job_ids):
                    time.sleep(0.5)
