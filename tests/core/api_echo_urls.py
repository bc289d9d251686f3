"""The project's URLs plus one POST route, to exercise the API's parsing of request bodies.

Used with `@pytest.mark.urls("tests.core.api_echo_urls")` until a real write endpoint exists.
"""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from core.choices import ALL_ROLES
from jelly.urls import handler403, handler404, handler500
from jelly.urls import urlpatterns as project_urlpatterns


class EchoView(APIView):
    """Returns the parsed JSON body; uses the project's default authentication and permissions."""

    allowed_roles = ALL_ROLES

    def post(self, request):
        return Response({"received": request.data})


urlpatterns = [path("api/v1/echo/", EchoView.as_view()), *project_urlpatterns]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
