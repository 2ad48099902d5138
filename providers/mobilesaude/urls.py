from django.urls import path
from django.views.decorators.http import require_GET

from providers.inbound import machine_api

from . import api

app_name = "mobilesaude"

urlpatterns = [
    path("integrations/mobilesaude/autorizacao", machine_api(api.AutorizacaoView.as_view()), name="autorizacao"),
    path(
        "integrations/mobilesaude/recuperarSenhaIdentificacao",
        machine_api(api.IdentificacaoView.as_view()),
        name="identificacao",
    ),
    path("integrations/mobilesaude/openapi.json", require_GET(api.openapi), name="openapi"),
    path("integrations/mobilesaude/docs", require_GET(api.docs), name="docs"),
]
