from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/answer/<uuid:public_id>/", views.answer_invitation, name="invitation-answer"),
    path("pharmacies/<uuid:public_id>/", views.pharmacy_detail, name="pharmacy-detail"),
]
