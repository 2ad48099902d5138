from django.urls import path
from django.views.decorators.http import require_GET

from . import api

app_name = "mobilesaude"

urlpatterns = [
    path("integrations/mobilesaude/autorizacao", api.AutorizacaoView.as_view(), name="autorizacao"),
    path(
        "integrations/mobilesaude/recuperarSenhaIdentificacao",
        api.IdentificacaoView.as_view(),
        name="identificacao",
    ),
    path("integrations/mobilesaude/openapi.json", require_GET(api.openapi), name="openapi"),
    path("integrations/mobilesaude/docs", api.docs, name="docs"),
]
