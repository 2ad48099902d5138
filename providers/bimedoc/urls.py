from django.urls import path

from . import views

urlpatterns = [
    path("bimedoc/pharmacies/<uuid:public_id>/open/", views.open_bimedoc, name="bimedoc-open"),
    path("bimedoc/pharmacies/<uuid:public_id>/put-on-bimedoc/", views.put_on_bimedoc, name="bimedoc-put-on"),
    path("bimedoc/pharmacies/<uuid:public_id>/colleagues/new/", views.add_colleague, name="bimedoc-add-colleague"),
]
