"""Diary API. Tenancy comes from `OrganisationScopedMixin`; every write goes through
`diary.services` (rule violations become 400/409 in `core.api.exceptions`).

Everyone reads the diary and books, moves, cancels and reinstates. Admins manage services,
locations and working hours; a practitioner may also set their own working hours.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import OrganisationScopedMixin, OrganisationScopedReadOnlyViewSet
from core.choices import ALL_ROLES, Role
from core.models import Location, Staff
from core.services import location_create
from diary import selectors, services
from diary.api.serializers import (
    AppointmentCancelSerializer,
    AppointmentCreateSerializer,
    AppointmentReinstateSerializer,
    AppointmentSerializer,
    AppointmentStatusSerializer,
    AppointmentUpdateSerializer,
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    LocationSerializer,
    PractitionerSerializer,
    ServiceSerializer,
    WorkingHoursSerializer,
)
from diary.filters import AppointmentFilter
from diary.models import Appointment, Service, WorkingHours

READ_ALL_WRITE_ADMIN = {"GET": ALL_ROLES, "HEAD": ALL_ROLES, "OPTIONS": ALL_ROLES, "POST": (Role.ADMIN,)}


class PractitionerViewSet(OrganisationScopedReadOnlyViewSet):
    """`GET /practitioners/`: the organisation's active practitioners (ids used everywhere else)."""

    queryset = Staff.objects.practitioners().order_by("given_name", "family_name", "pk")
    serializer_class = PractitionerSerializer
    allowed_roles = ALL_ROLES
    pagination_class = None


class ServiceViewSet(OrganisationScopedMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """`GET/POST /services/`: everyone reads; admins add."""

    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    allowed_roles = READ_ALL_WRITE_ADMIN
    pagination_class = None

    def perform_create(self, serializer):
        serializer.instance = services.service_create(
            organisation=self.request.user.organisation, **serializer.validated_data
        )


class LocationViewSet(OrganisationScopedMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """`GET/POST /locations/`: everyone reads; admins add."""

    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    allowed_roles = READ_ALL_WRITE_ADMIN
    pagination_class = None

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = location_create(
            organisation=self.request.user.organisation,
            name=data["name"],
            address=data.get("address", ""),
            postcode=data.get("postcode", ""),
        )


class WorkingHoursView(OrganisationScopedMixin, GenericAPIView):
    """`GET/PUT /practitioners/{practitioner_pk}/working-hours/`: the weekly hours, replaced
    as a whole by PUT (a list of {weekday, start_time, end_time, location}; Monday is 0).

    Everyone reads; admins set anyone's, practitioners their own.
    """

    queryset = WorkingHours.objects.select_related("location")
    serializer_class = WorkingHoursSerializer
    allowed_roles = {
        "GET": ALL_ROLES,
        "HEAD": ALL_ROLES,
        "OPTIONS": ALL_ROLES,
        "PUT": (Role.ADMIN, Role.PRACTITIONER),
    }
    pagination_class = None

    def get_practitioner(self) -> Staff:
        return get_object_or_404(selectors.practitioner_list(user=self.request.user), pk=self.kwargs["practitioner_pk"])

    def _hours(self, practitioner):
        return self.get_queryset().filter(practitioner=practitioner).order_by("weekday", "start_time")

    @extend_schema(responses=WorkingHoursSerializer(many=True))
    def get(self, request, practitioner_pk):
        practitioner = self.get_practitioner()
        return Response(self.get_serializer(self._hours(practitioner), many=True).data)

    @extend_schema(request=WorkingHoursSerializer(many=True), responses=WorkingHoursSerializer(many=True))
    def put(self, request, practitioner_pk):
        practitioner = self.get_practitioner()
        if request.user.has_role(Role.PRACTITIONER) and request.user.pk != practitioner.pk:
            raise PermissionDenied("Practitioners set only their own working hours.")
        data = request.data.get("hours") if isinstance(request.data, dict) else request.data
        serializer = self.get_serializer(data=data, many=True)
        serializer.is_valid(raise_exception=True)
        services.working_hours_set(practitioner=practitioner, hours=serializer.validated_data)
        return Response(self.get_serializer(self._hours(practitioner), many=True).data)


class AppointmentViewSet(OrganisationScopedMixin, viewsets.GenericViewSet):
    """`GET/POST /appointments/` (`?start=&end=&practitioner=&patient=`), `GET/PATCH
    /appointments/{id}/` (PATCH must send `version`), `POST /appointments/{id}/cancel/`,
    `POST /appointments/{id}/status/` and `POST /appointments/{id}/reinstate/`. Clashes and stale
    versions answer 409."""

    queryset = Appointment.objects.select_related("patient", "practitioner", "service", "location", "room")
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    allowed_roles = ALL_ROLES

    def _respond(self, appointment: Appointment, code=status.HTTP_200_OK) -> Response:
        return Response(AppointmentSerializer(appointment).data, status=code)

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AppointmentSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    @extend_schema(request=AppointmentCreateSerializer, responses={201: AppointmentSerializer})
    def create(self, request):
        serializer = AppointmentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        appointment = services.appointment_book(actor=request.user, **serializer.validated_data)
        return self._respond(appointment, status.HTTP_201_CREATED)

    @extend_schema(request=AppointmentUpdateSerializer, responses=AppointmentSerializer)
    def partial_update(self, request, pk=None):
        appointment = self.get_object()
        serializer = AppointmentUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        appointment = services.appointment_reschedule(actor=request.user, appointment=appointment, **changes)
        return self._respond(appointment)

    def _act(self, request, serializer_class, service):
        """An action on one appointment: its input checked by `serializer_class`, done by `service`."""
        appointment = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(service(actor=request.user, appointment=appointment, **serializer.validated_data))

    @extend_schema(request=AppointmentCancelSerializer, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(request, AppointmentCancelSerializer, services.appointment_cancel)

    @extend_schema(request=AppointmentStatusSerializer, responses=AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        return self._act(request, AppointmentStatusSerializer, services.appointment_set_status)

    @extend_schema(
        request=AppointmentReinstateSerializer,
        responses=AppointmentSerializer,
        description=(
            "Book a cancelled appointment that has not started again, by the booking rules: 409 on a "
            "clash (named) or a stale version, or for the patient's own overlap until "
            "`allow_patient_overlap`; 400 if it is not cancelled, has started, or is outside hours "
            "(admins may `override_hours`)."
        ),
    )
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        return self._act(request, AppointmentReinstateSerializer, services.appointment_reinstate)


class AvailabilityView(APIView):
    """`GET /availability/?service=&date=` (optional `practitioner`, `location`): the free slots
    that day, with every booking rule applied."""

    allowed_roles = ALL_ROLES

    @extend_schema(
        parameters=[
            OpenApiParameter("service", str, required=True),
            OpenApiParameter("date", str, required=True, description="YYYY-MM-DD"),
            OpenApiParameter("practitioner", str),
            OpenApiParameter("location", str),
        ],
        responses=AvailabilitySerializer,
    )
    def get(self, request):
        query = AvailabilityQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        slots = selectors.availability(
            user=request.user,
            service=data["service"],
            day=data["date"],
            practitioner=data.get("practitioner"),
            location=data.get("location"),
        )
        return Response(AvailabilitySerializer({"slots": slots}).data)
