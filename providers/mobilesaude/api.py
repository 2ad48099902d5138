"""The inbound JSON endpoints Mobile Saúde's app platform calls (machine API: no CSRF, no session)."""

from django.utils.translation import gettext_lazy
from django.views import View

from providers import inbound
from providers.addresses import client_address
from providers.inbound import JsonAnswer, machine_api

from . import schemas, services
from .conf import conf


def message_response(text: str, status: int, **headers) -> JsonAnswer:
    return JsonAnswer(schemas.message(text), status=status, headers=headers)


def token_response(answer: dict) -> JsonAnswer:
    """An answer carrying tokens: never cached (RFC 6749, section 5.1)."""
    return JsonAnswer(answer, headers={"Cache-Control": "no-store"})


class MobileSaudeContract(inbound.Contract):
    """Mobile Saúde's errors: ``{"mensagem": <Portuguese text>}``."""

    def render(self, error: inbound.InboundError) -> JsonAnswer:
        if isinstance(error, inbound.MethodNotAllowed):
            text = schemas.METHOD_NOT_ALLOWED
        elif isinstance(error, inbound.UnsupportedMediaType):
            text = schemas.UNSUPPORTED_MEDIA_TYPE
        elif isinstance(error, inbound.BodyTooLarge):
            text = schemas.BODY_TOO_LARGE.format(limit=conf.MAX_BODY_BYTES)
        elif isinstance(error, inbound.MalformedBody):
            text = schemas.INVALID_JSON
        else:
            text = error.message
        return message_response(text, error.status, **error.headers)


CONTRACT = MobileSaudeContract()


class MobileSaudeView(View):
    """POST-only JSON endpoint (``providers.inbound.endpoint``); every error is a ``{"mensagem"}`` answer."""

    @classmethod
    def as_view(cls, **initkwargs):
        return inbound.endpoint(CONTRACT, "POST")(super().as_view(**initkwargs))


class AutorizacaoView(MobileSaudeView):
    """``POST /integrations/mobilesaude/autorizacao``: an integration client's credentials → its token."""

    def post(self, request):
        data = schemas.parse_json_request(request, schemas.AUTORIZACAO_REQUEST)
        try:
            token = services.authorize_client(usuario=data["usuario"], senha=data["senha"], address=client_address(request))
        except services.Throttled as exc:
            return message_response(schemas.THROTTLED, 429, **{"Retry-After": str(exc.retry_after)})
        except services.InvalidCredentials:
            return message_response(schemas.WRONG_CREDENTIALS, 401)
        return token_response(schemas.autorizacao_answer(token, services.header_value(token)))


class IdentificacaoView(MobileSaudeView):
    """``POST /integrations/mobilesaude/recuperarSenhaIdentificacao``: CPF + date of birth → the user and a token."""

    def post(self, request):
        header = request.headers.get(conf.AUTH_HEADER)
        try:
            client = services.client_for_header(header)
        except services.NotAuthorized:
            text = schemas.MISSING_TOKEN if not header else schemas.INVALID_TOKEN
            challenge = f'{conf.AUTH_SCHEME or "Bearer"} realm="mobilesaude"'
            return message_response(text, 401, **{"WWW-Authenticate": challenge})
        data = schemas.parse_json_request(request, schemas.IDENTIFICACAO_REQUEST)
        try:
            birth_date = services.parse_birth_date(data["dataNascimento"])
        except services.InvalidIdentification:
            return message_response(schemas.INVALID_DATE, 400)
        try:
            identification = services.identify_user(client=client, cpf=data["cpf"], birth_date=birth_date)
        except services.Throttled as exc:
            return message_response(schemas.THROTTLED, 429, **{"Retry-After": str(exc.retry_after)})
        if identification is None:
            return message_response(schemas.NOT_FOUND, 404)
        return token_response(schemas.identificacao_answer(identification, services.header_value(identification.token)))


@machine_api
def openapi(request):
    """The OpenAPI 3 document of these endpoints."""
    return JsonAnswer(schemas.openapi_document())


docs = inbound.api_reference(gettext_lazy("Mobile Saúde integration API"), "mobilesaude:openapi")
