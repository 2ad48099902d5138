from django.urls import path

from . import views, wizard

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/answer/<uuid:public_id>/", views.answer_invitation, name="invitation-answer"),
    path("pharmacies/<uuid:public_id>/", views.pharmacy_detail, name="pharmacy-detail"),
    path("pharmacies/new/", wizard.titulaire_step, name="wizard-titulaire"),
    path("pharmacies/new/pharmacy/", wizard.pharmacy_step, name="wizard-pharmacy"),
    path("pharmacies/new/review/", wizard.review_step, name="wizard-review"),
    path("jobs/<uuid:public_id>/", wizard.job_detail, name="onboarding-job"),
    path("jobs/<uuid:public_id>/status.json", wizard.job_status, name="onboarding-job-status"),
    path("jobs/<uuid:public_id>/retry/", wizard.job_retry, name="onboarding-job-retry"),
    path("jobs/<uuid:public_id>/correct/", wizard.job_correct, name="onboarding-job-correct"),
]
