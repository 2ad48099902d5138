from django.urls import path

from . import api, views

urlpatterns = [
    path("mcg/v1/token", api.token, name="mcg-token"),
    path("mcg/v1/tokeninfo", api.tokeninfo, name="mcg-tokeninfo"),
    path("mcg/v1/revoke", api.revoke, name="mcg-revoke"),
    path("mcg/v1/openapi.json", api.openapi, name="mcg-openapi"),
    path("mcg/v1/docs", api.docs, name="mcg-docs"),
    path(".well-known/jwks.json", api.jwks, name="jwks"),
    path(".well-known/oauth-authorization-server", api.metadata, name="oauth-server-metadata"),
    path("Services", api.services_endpoint, name="mcg-services"),
    path("Services/<str:request_id>", api.service_request_detail, name="mcg-service-request"),
    path("inbox/", views.inbox, name="mcg-inbox"),
    path("inbox/senders/<int:provider_id>/", views.sender_preferences, name="mcg-sender-preferences"),
    path("inbox/<uuid:public_id>/", views.item_detail, name="mcg-inbox-item"),
    path("inbox/<uuid:public_id>/mark", views.item_mark, name="mcg-inbox-mark"),
    path("inbox/<uuid:public_id>/picture", views.item_picture, name="mcg-inbox-picture"),
    path("inbox/<uuid:public_id>/qr.png", views.item_qr_code, name="mcg-inbox-qr"),
]
