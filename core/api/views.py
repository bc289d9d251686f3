from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import MeSerializer
from core.choices import ALL_ROLES


class MeView(APIView):
    """The caller: staff id (the id every other API uses for practitioners), role, organisation."""

    allowed_roles = ALL_ROLES

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 document, for signed-in staff."""

    allowed_roles = ALL_ROLES


class SchemaDocsView(SpectacularSwaggerSplitView):
    """Interactive API docs (Swagger UI served from our own static files)."""

    allowed_roles = ALL_ROLES

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        # Swagger UI's page carries one inline <style>; scripts stay 'self' only.
        response.headers["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        return response
