"""Privacy API: consent, the NHS-number objection, disclosures and the subject access export.

Patients come from `visible_to` (404 for other clinics); roles are declared per view and the
named checks in `privacy.access` refuse the rest (403). Every write goes through
`privacy.services`, which logs and audits it.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.choices import ALL_ROLES, Role
from patients.models import Contact, Patient
from privacy import access, services
from privacy.api.serializers import (
    ConsentCreateSerializer,
    ConsentSerializer,
    ConsentStateSerializer,
    DisclosureCreateSerializer,
    DisclosureSerializer,
    ObjectionCreateSerializer,
    ObjectionSerializer,
    ObjectionWithdrawSerializer,
)
from privacy.audit import audit_context
from privacy.choices import AuditAction, AuditPurpose
from privacy.consent import consent_history, consent_states, purpose_labels
from privacy.explanations import OBJECTION_EXPLANATION
from privacy.models import Disclosure
from privacy.selectors import (
    active_nhs_number_objection,
    disclosure_register,
    disclosures_for_patient,
    disclosures_visible_to,
    nhs_number_objection_history,
)

DISCLOSING_ROLES = (Role.ADMIN, Role.PRACTITIONER)


class PatientScopedAPIView(GenericAPIView):
    """Routes under `/patients/{patient_pk}/`: the patient must be visible (404 otherwise)."""

    queryset = Patient.objects.none()  # for the schema's path parameters; rows come from get_patient

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.get_patient()  # 404 before any input is looked at

    def get_patient(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = get_object_or_404(
                Patient.objects.visible_to(self.request.user), pk=self.kwargs["patient_pk"]
            )
        return self._patient


class ConsentListView(PatientScopedAPIView):
    """`GET /patients/{id}/consents/`: each purpose's current state and the full history.
    `POST`: record a new decision (records are never changed; the latest one counts)."""

    allowed_roles = ALL_ROLES
    serializer_class = ConsentCreateSerializer

    @extend_schema(
        responses=inline_serializer(
            "ConsentOverview",
            {"current": ConsentStateSerializer(many=True), "history": ConsentSerializer(many=True)},
        )
    )
    def get(self, request, *args, **kwargs):
        patient = self.get_patient()
        return Response(
            {
                "current": ConsentStateSerializer(consent_states(patient), many=True).data,
                "history": ConsentSerializer(consent_history(patient), many=True).data,
            }
        )

    @extend_schema(request=ConsentCreateSerializer, responses={201: ConsentSerializer})
    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_consent(request.user, patient):
            raise PermissionDenied("Your role does not allow this.")
        serializer = ConsentCreateSerializer(
            data=request.data, context={"purposes": purpose_labels(patient.organisation_id)}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        consent = services.consent_record(
            patient=patient,
            purpose=data["purpose"],
            decision=data["decision"],
            method=data["how"],
            expires_at=data.get("expires_at"),
            evidence=data.get("evidence", ""),
            recorded_by=request.user,
            audit=audit_context(request),
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


def _objection_state(patient: Patient) -> dict:
    current = active_nhs_number_objection(patient)
    return {
        "objected": current is not None,
        "current": ObjectionSerializer(current).data if current is not None else None,
        "history": ObjectionSerializer(nhs_number_objection_history(patient), many=True).data,
        "explanation": list(OBJECTION_EXPLANATION),
    }


class NhsNumberObjectionView(PatientScopedAPIView):
    """`GET /patients/{id}/nhs-number-objection/`: the current state, history and the explanation
    staff give first. `POST` records the objection (`explanation_given` must be true); `DELETE`
    withdraws it (body: `how`, optional `note`)."""

    allowed_roles = ALL_ROLES
    serializer_class = ObjectionCreateSerializer

    @extend_schema(responses=OpenApiResponse(description="objected, current, history, explanation"))
    def get(self, request, *args, **kwargs):
        return Response(_objection_state(self.get_patient()))

    @extend_schema(request=ObjectionCreateSerializer, responses={201: ObjectionSerializer})
    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_nhs_number_objection(request.user, patient):
            raise PermissionDenied("Your role does not allow this.")
        serializer = ObjectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        objection = services.nhs_number_objection_record(
            patient=patient,
            recorded_by=request.user,
            method=serializer.validated_data["how"],
            note=serializer.validated_data["note"],
            explanation_given=serializer.validated_data["explanation_given"],
            audit=audit_context(request),
        )
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ObjectionWithdrawSerializer, responses={200: ObjectionSerializer})
    def delete(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_nhs_number_objection(request.user, patient):
            raise PermissionDenied("Your role does not allow this.")
        serializer = ObjectionWithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        objection = services.nhs_number_objection_withdraw(
            patient=patient,
            withdrawn_by=request.user,
            method=serializer.validated_data["how"],
            note=serializer.validated_data["note"],
            audit=audit_context(request),
        )
        return Response(ObjectionSerializer(objection).data)


def _decision_body(disclosure: Disclosure) -> dict:
    return {"decision": DisclosureSerializer(disclosure).data}


class DisclosureListView(GenericAPIView):
    """`POST /disclosures/`: ask for a disclosure. 201 with the decision and the minimised
    package when allowed; 403 with the decision and its reasons when denied. Both are logged.
    `GET`: the organisation's disclosure register (admins, the Caldicott lead)."""

    queryset = Disclosure.objects.all()
    serializer_class = DisclosureSerializer
    allowed_roles = {"GET": (Role.ADMIN,), "HEAD": (Role.ADMIN,), "OPTIONS": ALL_ROLES, "POST": DISCLOSING_ROLES}

    @extend_schema(operation_id="disclosure_register", responses=DisclosureSerializer(many=True))
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(disclosure_register(user=request.user))
        return self.get_paginated_response(DisclosureSerializer(page, many=True).data)

    @extend_schema(
        request=DisclosureCreateSerializer,
        responses={
            201: OpenApiResponse(description="Allowed: `decision` and `package` (exactly the released categories)."),
            403: OpenApiResponse(description="Denied: `decision` with its `reasons`. Logged all the same."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = DisclosureCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = Patient.objects.visible_to(request.user).filter(pk=data.pop("patient")).first()
        if patient is None:
            raise ValidationError({"patient": ["No such patient in your organisation."]})
        contact_id = data.pop("recipient_contact")
        contact = None
        if contact_id is not None:
            contact = Contact.objects.visible_to(request.user).filter(pk=contact_id, patient=patient).first()
            if contact is None:
                raise ValidationError({"recipient_contact": ["Not one of this patient's contacts."]})
        disclosure = services.disclosure_request(
            patient=patient,
            requested_by=request.user,
            recipient_contact=contact,
            release_now=True,
            audit=audit_context(request),
            **data,
        )
        body = _decision_body(disclosure)
        if not disclosure.allowed:
            body["detail"] = "The disclosure is not allowed."
            body["reasons"] = list(disclosure.reasons)
            return Response(body, status=status.HTTP_403_FORBIDDEN)
        body["package"] = disclosure.package
        return Response(body, status=status.HTTP_201_CREATED)


class DisclosureDetailView(GenericAPIView):
    """`GET /disclosures/{id}/`: the decision, and the package if you may see it."""

    queryset = Disclosure.objects.all()
    serializer_class = DisclosureSerializer
    allowed_roles = DISCLOSING_ROLES

    @extend_schema(
        operation_id="disclosure_retrieve",
        responses=OpenApiResponse(description="`decision`, and `package` when released and yours to see."),
    )
    def get(self, request, *args, **kwargs):
        disclosure = get_object_or_404(disclosures_visible_to(request.user), pk=self.kwargs["pk"])
        if not access.can_view_disclosures(request.user, disclosure.patient):
            raise PermissionDenied("Your role does not allow this.")
        body = _decision_body(disclosure)
        if disclosure.is_released and access.can_view_disclosure_package(request.user, disclosure):
            services.audit_entry_record(
                action=AuditAction.VIEW,
                obj=disclosure,
                context=audit_context(request),
                purpose=AuditPurpose.DISCLOSURE,
                details={"package": True},
            )
            body["package"] = disclosure.package
        return Response(body)


class PatientDisclosureListView(PatientScopedAPIView):
    """`GET /patients/{id}/disclosures/`: every disclosure decision about the patient."""

    serializer_class = DisclosureSerializer
    allowed_roles = DISCLOSING_ROLES

    @extend_schema(responses=DisclosureSerializer(many=True))
    def get(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_view_disclosures(request.user, patient):
            raise PermissionDenied("Your role does not allow this.")
        page = self.paginate_queryset(disclosures_for_patient(user=request.user, patient=patient))
        return self.get_paginated_response(DisclosureSerializer(page, many=True).data)


class SubjectAccessExportView(PatientScopedAPIView):
    """`GET /patients/{id}/export/`: everything held about the patient, with the access log.
    Admins (the data-protection role) and the patient's own practitioners; audited."""

    allowed_roles = DISCLOSING_ROLES
    serializer_class = serializers.Serializer

    @extend_schema(responses=OpenApiResponse(description="The subject access export (JSON)."))
    def get(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_export_record(request.user, patient):
            raise PermissionDenied("Only admins and the patient's own practitioners export the record.")
        export = services.subject_access_export(patient=patient, exported_by=request.user, audit=audit_context(request))
        return Response(export)
