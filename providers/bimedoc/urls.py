from django.urls import path

from . import views, wizard

urlpatterns = [
    path("bimedoc/pharmacies/<uuid:public_id>/open/", views.open_bimedoc, name="bimedoc-open"),
    path("bimedoc/pharmacies/<uuid:public_id>/put-on-bimedoc/", views.put_on_bimedoc, name="bimedoc-put-on"),
    path("bimedoc/pharmacies/<uuid:public_id>/colleagues/new/", views.add_colleague, name="bimedoc-add-colleague"),
    # The set-up wizard and the pages that follow a Bimedoc job (their paths predate this package).
    path("pharmacies/new/", wizard.titulaire_step, name="wizard-titulaire"),
    path("pharmacies/new/pharmacy/", wizard.pharmacy_step, name="wizard-pharmacy"),
    path("pharmacies/new/review/", wizard.review_step, name="wizard-review"),
    path("jobs/<uuid:public_id>/", wizard.job_detail, name="onboarding-job"),
    path("jobs/<uuid:public_id>/status.json", wizard.job_status, name="onboarding-job-status"),
    path("jobs/<uuid:public_id>/retry/", wizard.job_retry, name="onboarding-job-retry"),
    path("jobs/<uuid:public_id>/correct/", wizard.job_correct, name="onboarding-job-correct"),
]
