from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import MeSerializer


class MeView(APIView):
    """The caller: staff id (the id every other API uses for practitioners), role, organisation."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)
