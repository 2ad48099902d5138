from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/profile/", views.profile, name="profile"),
    path("pharmacies/<uuid:public_id>/", views.pharmacy_detail, name="pharmacy-detail"),
]
