"""Patients API. Tenancy comes from `OrganisationScopedMixin`; note access from `notes_visible_to`.

Note routes answer 403 for a patient of the caller's organisation outside their care (and for
any role but practitioner), and 404 for another organisation's patient or note. Reading a
patient or their notes, and every change, is audited (one entry per read).
"""

from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from core.api.viewsets import OrganisationScopedMixin, OrganisationScopedViewSet
from core.choices import ALL_ROLES, Role
from patients import services
from patients.api.serializers import (
    AddendumCreateSerializer,
    CareTeamMemberSerializer,
    ClinicalNoteSerializer,
    ContactSerializer,
    NoteAddendumSerializer,
    PatientSerializer,
)
from patients.filters import PatientFilter
from patients.models import CareTeamMember, ClinicalNote, Contact, Patient
from patients.permissions import can_manage_care_team, can_read_notes, can_write_notes
from patients.selectors import notes_visible_to, practitioners_for
from privacy import access
from privacy.audit import audit_context
from privacy.choices import AuditAction, AuditPurpose
from privacy.services import audit_entry_record

READ_METHODS = ("GET", "HEAD", "OPTIONS")
NOTES_DENIED = "Only practitioners caring for this patient may read or write their clinical notes."


def audit_notes_read(request, obj, patient: Patient, *, count: int) -> None:
    """One entry per read; a break-glass read carries the grant's reason."""
    grant = None if access.cares_for(request.user, patient) else access.active_break_glass_grant(request.user, patient)
    details = {"notes": count}
    if grant is not None:
        details["break_glass_grant"] = str(grant.pk)
    audit_entry_record(
        action=AuditAction.READ_NOTES,
        obj=obj,
        context=audit_context(request),
        patient=patient,
        purpose=AuditPurpose.BREAK_GLASS if grant is not None else "",
        reason=grant.reason if grant is not None else "",
        details=details,
    )


class PatientViewSet(OrganisationScopedViewSet):
    """`GET/POST /patients/` (`?q=` search, `?archived=`), `GET/PATCH /patients/{id}/`."""

    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    allowed_roles = ALL_ROLES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        data = self.get_serializer(patient).data
        audit_entry_record(action=AuditAction.VIEW, obj=patient, context=audit_context(request))
        return Response(data)

    def perform_create(self, serializer):
        serializer.instance = services.patient_create(
            organisation=self.request.user.organisation,
            created_by=self.request.user,
            audit=audit_context(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        serializer.instance = services.patient_update(
            patient=serializer.instance, changes=serializer.validated_data, audit=audit_context(self.request)
        )


class PatientChildMixin(OrganisationScopedMixin):
    """Routes under `/patients/{patient_pk}/`: the patient must be visible (404 otherwise)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.get_patient()  # 404 before any input is looked at

    def get_patient(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = get_object_or_404(
                Patient.objects.visible_to(self.request.user), pk=self.kwargs["patient_pk"]
            )
        return self._patient


class ContactViewSet(PatientChildMixin, viewsets.ModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    allowed_roles = ALL_ROLES
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = None

    def get_queryset(self):
        return super().get_queryset().filter(patient=self.get_patient())

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(
            patient=self.get_patient(), audit=audit_context(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(
            contact=serializer.instance, changes=serializer.validated_data, audit=audit_context(self.request)
        )

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance, audit=audit_context(self.request))


class CareTeamViewSet(
    PatientChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Everyone sees the care team; admins and the patient's own practitioners change it."""

    queryset = CareTeamMember.objects.select_related("practitioner")
    serializer_class = CareTeamMemberSerializer
    pagination_class = None
    lookup_field = "practitioner_id"
    lookup_url_kwarg = "practitioner_pk"
    allowed_roles = {
        "GET": ALL_ROLES,
        "HEAD": ALL_ROLES,
        "OPTIONS": ALL_ROLES,
        "POST": (Role.ADMIN, Role.PRACTITIONER),
        "DELETE": (Role.ADMIN, Role.PRACTITIONER),
    }

    def get_queryset(self):
        return super().get_queryset().filter(patient=self.get_patient())

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method not in READ_METHODS and not can_manage_care_team(request.user, self.get_patient()):
            raise PermissionDenied("Only admins and practitioners caring for this patient change the care team.")

    def perform_create(self, serializer):
        practitioner = (
            practitioners_for(user=self.request.user).filter(pk=serializer.validated_data["practitioner_id"]).first()
        )
        if practitioner is None:
            raise ValidationError({"practitioner": ["Choose an active practitioner of your organisation."]})
        serializer.instance = services.care_team_member_add(
            patient=self.get_patient(),
            practitioner=practitioner,
            added_by=self.request.user,
            audit=audit_context(self.request),
        )

    def perform_destroy(self, instance):
        services.care_team_member_remove(
            patient=instance.patient, practitioner=instance.practitioner, audit=audit_context(self.request)
        )


class PatientNoteViewSet(PatientChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """`GET/POST /patients/{patient_pk}/notes/`: practitioners caring for the patient only."""

    queryset = ClinicalNote.objects.all()
    serializer_class = ClinicalNoteSerializer
    allowed_roles = (Role.PRACTITIONER,)

    def check_permissions(self, request):
        super().check_permissions(request)
        patient = self.get_patient()
        allowed = can_read_notes if request.method in READ_METHODS else can_write_notes
        if not allowed(request.user, patient):
            raise PermissionDenied(NOTES_DENIED)

    def get_queryset(self):
        return notes_visible_to(self.request.user, queryset=super().get_queryset()).filter(patient=self.get_patient())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "patient_pk" in self.kwargs:  # absent only while the schema is generated
            context["patient"] = self.get_patient()
        return context

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data["results"] if isinstance(response.data, dict) else response.data
        audit_notes_read(request, self.get_patient(), self.get_patient(), count=len(rows))
        return response

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.note_create(
            patient=self.get_patient(),
            author=self.request.user,
            text=data.get("text", ""),
            sections=data.get("sections"),
            template=data.get("template"),
            appointment=data.get("appointment"),
            audit=audit_context(self.request),
        )


class NoteViewSet(OrganisationScopedMixin, viewsets.GenericViewSet):
    """`GET/PATCH /notes/{id}/`, `POST /notes/{id}/sign/`, `POST /notes/{id}/addenda/`."""

    queryset = ClinicalNote.objects.all()
    serializer_class = ClinicalNoteSerializer
    allowed_roles = (Role.PRACTITIONER,)

    def get_queryset(self):
        return notes_visible_to(self.request.user, queryset=super().get_queryset())

    def get_object(self):
        note = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if note is None:
            if ClinicalNote.objects.visible_to(self.request.user).filter(pk=self.kwargs["pk"]).exists():
                raise PermissionDenied(NOTES_DENIED)
            get_object_or_404(ClinicalNote.objects.none())
        if self.request.method not in READ_METHODS and not can_write_notes(self.request.user, note.patient):
            raise PermissionDenied(NOTES_DENIED)
        return note

    def retrieve(self, request, pk=None):
        note = self.get_object()
        data = self.get_serializer(note).data
        audit_notes_read(request, note, note.patient, count=1)
        return Response(data)

    def partial_update(self, request, pk=None):
        note = self.get_object()
        serializer = self.get_serializer(note, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        link = {"appointment": data["appointment"]} if "appointment" in data else {}  # null unlinks
        note = services.note_update(
            note=note,
            editor=request.user,
            text=data.get("text"),
            sections=data.get("sections"),
            template=data.get("template"),
            audit=audit_context(request),
            **link,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=note.pk)).data)

    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        note = services.note_sign(note=self.get_object(), signer=request.user, audit=audit_context(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=note.pk)).data)

    @action(detail=True, methods=["post"], serializer_class=AddendumCreateSerializer)
    def addenda(self, request, pk=None):
        note = self.get_object()
        serializer = AddendumCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = services.note_addendum_add(
            note=note, author=request.user, text=serializer.validated_data["text"], audit=audit_context(request)
        )
        return Response(NoteAddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)
