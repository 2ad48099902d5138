from django.urls import path

from . import views

urlpatterns = [
    path("pharmacies/<uuid:public_id>/edin/connect", views.connect, name="edin-connect"),
    path("pharmacies/<uuid:public_id>/edin/check", views.check_again, name="edin-check"),
    path("pharmacies/<uuid:public_id>/edin/disconnect", views.disconnect, name="edin-disconnect"),
    path("pharmacies/<uuid:public_id>/edin/status", views.status, name="edin-status"),
]
