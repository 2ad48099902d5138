"""Sandbox-wide endpoints (fault profiles)."""

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import faults
from .control import control_endpoint

SIMULATORS = ("bimedoc", "edin", "gateway")


@csrf_exempt
@require_http_methods(["GET", "PUT", "POST", "DELETE"])
@control_endpoint
def fault_profile(request, simulator):
    if simulator not in SIMULATORS:
        raise Http404
    if request.method == "DELETE":
        faults.set_profile(simulator, None)
        return JsonResponse({})
    return faults.profile_response(simulator, request.body if request.method in ("PUT", "POST") else None)
