"""Privacy pages: consent, the NHS-number objection, disclosures (record, history, register),
break-glass (request, review) and the subject access export.

Every patient comes from `visible_to(request.user)` (404 for other clinics); each view declares
its roles, and the named checks in `privacy.access` decide the rest (403).
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from core.choices import ALL_ROLES, Role
from core.exceptions import DomainError
from core.views import StaffRequiredMixin
from patients.forms import add_domain_error
from patients.models import Patient
from privacy import access, services
from privacy.audit import audit_context
from privacy.choices import AuditAction, AuditPurpose, DataCategory
from privacy.consent import consent_history, consent_states, purpose_labels
from privacy.explanations import OBJECTION_EXPLANATION, OBJECTION_TITLE
from privacy.forms import (
    BreakGlassForm,
    BreakGlassReviewForm,
    ConsentForm,
    DisclosureForm,
    ErasureRequestForm,
    ObjectionForm,
    ObjectionWithdrawForm,
)
from privacy.models import BreakGlassGrant, Consent, Disclosure, ErasureRequest, NhsNumberObjection
from privacy.selectors import (
    active_nhs_number_objection,
    break_glass_grants_to_review,
    break_glass_grants_visible_to,
    disclosure_register,
    disclosures_for_patient,
    disclosures_visible_to,
    erasure_requests_for_patient,
    erasure_requests_visible_to,
    nhs_number_objection_history,
    with_objection_marker,
)

PAGE_SIZE = 50
DISCLOSING_ROLES = (Role.ADMIN, Role.PRACTITIONER)


class PatientPrivacyMixin(StaffRequiredMixin):
    """Views under /privacy/patients/<patient_pk>/: the patient of the user's organisation."""

    def get_patient(self) -> Patient:
        if not hasattr(self, "_patient"):
            patients = with_objection_marker(Patient.objects.visible_to(self.request.user))
            self._patient = get_object_or_404(patients, pk=self.kwargs["patient_pk"])
        return self._patient

    def patient_url(self) -> str:
        return reverse("patients:detail", kwargs={"pk": self.get_patient().pk})


class PrivacyHomeView(StaffRequiredMixin, TemplateView):
    """The Caldicott lead's starting point: the register, break-glass to review, the audit log."""

    template_name = "privacy/home.html"
    allowed_roles = (Role.ADMIN,)

    def get_context_data(self, **kwargs):
        to_review = break_glass_grants_to_review(user=self.request.user).count()
        erasure_requests = erasure_requests_visible_to(self.request.user)[:PAGE_SIZE]
        return super().get_context_data(break_glass_to_review=to_review, erasure_requests=erasure_requests, **kwargs)


class ConsentView(PatientPrivacyMixin, TemplateView):
    """The patient's consent, purpose by purpose, with its history; record a new decision."""

    model = Consent
    template_name = "privacy/consents.html"
    allowed_roles = ALL_ROLES

    def make_form(self, data=None):
        return ConsentForm(data, purposes=purpose_labels(self.get_patient().organisation_id))

    def get_context_data(self, **kwargs):
        patient = self.get_patient()
        kwargs.setdefault("form", self.make_form())
        return super().get_context_data(
            patient=patient, states=consent_states(patient), history=consent_history(patient), **kwargs
        )

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_consent(request.user, patient):
            raise PermissionDenied
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                services.consent_record(
                    patient=patient,
                    purpose=form.cleaned_data["purpose"],
                    decision=form.cleaned_data["decision"],
                    method=form.cleaned_data["method"],
                    expires_at=form.expires_at,
                    evidence=form.cleaned_data["evidence"],
                    recorded_by=request.user,
                    audit=audit_context(request),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, "The consent decision is recorded.")
                return redirect("privacy:consents", patient_pk=patient.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ObjectionView(PatientPrivacyMixin, TemplateView):
    """The objection to NHS-number sharing: what it means (said before recording), its state and
    history; record it."""

    model = NhsNumberObjection
    template_name = "privacy/objection.html"
    allowed_roles = ALL_ROLES

    def get_context_data(self, **kwargs):
        patient = self.get_patient()
        current = active_nhs_number_objection(patient)
        if current is None:
            kwargs.setdefault("form", ObjectionForm())
        else:
            kwargs.setdefault("withdraw_form", ObjectionWithdrawForm())
        return super().get_context_data(
            patient=patient,
            current=current,
            history=nhs_number_objection_history(patient),
            explanation=OBJECTION_EXPLANATION,
            title=OBJECTION_TITLE,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_nhs_number_objection(request.user, patient):
            raise PermissionDenied
        form = ObjectionForm(request.POST)
        if form.is_valid():
            try:
                services.nhs_number_objection_record(
                    patient=patient,
                    recorded_by=request.user,
                    method=form.cleaned_data["method"],
                    note=form.cleaned_data["note"],
                    explanation_given=form.cleaned_data["explanation_given"],
                    audit=audit_context(request),
                )
            except DomainError as error:
                add_domain_error(form, error)
                return self.render_to_response(self.get_context_data(form=form), status=409)
            messages.success(request, "The objection is recorded: the NHS number will not leave Jelly.")
            return redirect("privacy:objection", patient_pk=patient.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ObjectionWithdrawView(PatientPrivacyMixin, View):
    model = NhsNumberObjection
    allowed_roles = ALL_ROLES
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_nhs_number_objection(request.user, patient):
            raise PermissionDenied
        form = ObjectionWithdrawForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say how the patient told us they withdraw the objection.")
        else:
            try:
                services.nhs_number_objection_withdraw(
                    patient=patient,
                    withdrawn_by=request.user,
                    method=form.cleaned_data["method"],
                    note=form.cleaned_data["note"],
                    audit=audit_context(request),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "The objection is withdrawn.")
        return redirect("privacy:objection", patient_pk=patient.pk)


class ErasureRequestView(PatientPrivacyMixin, TemplateView):
    """Record a patient's request for erasure, and see the earlier ones. Nothing is erased here."""

    model = ErasureRequest
    template_name = "privacy/erasure_requests.html"
    allowed_roles = ALL_ROLES

    def get_context_data(self, **kwargs):
        patient = self.get_patient()
        kwargs.setdefault("form", ErasureRequestForm())
        return super().get_context_data(patient=patient, requests=erasure_requests_for_patient(patient), **kwargs)

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not access.can_record_erasure_request(request.user, patient):
            raise PermissionDenied
        form = ErasureRequestForm(request.POST)
        if form.is_valid():
            services.erasure_request_record(
                patient=patient,
                recorded_by=request.user,
                method=form.cleaned_data["method"],
                details=form.cleaned_data["details"],
                audit=audit_context(request),
            )
            messages.success(request, "The erasure request is recorded for the data-protection lead.")
            return redirect("privacy:erasure-requests", patient_pk=patient.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PatientDisclosuresView(PatientPrivacyMixin, TemplateView):
    """Every disclosure decision about the patient, allowed or denied."""

    model = Disclosure
    template_name = "privacy/patient_disclosures.html"
    allowed_roles = DISCLOSING_ROLES

    def get_context_data(self, **kwargs):
        patient = self.get_patient()
        if not access.can_view_disclosures(self.request.user, patient):
            raise PermissionDenied
        disclosures = disclosures_for_patient(user=self.request.user, patient=patient)
        return super().get_context_data(patient=patient, disclosures=disclosures, **kwargs)


class DisclosureCreateView(PatientPrivacyMixin, TemplateView):
    """Ask for a disclosure. The decision is logged and shown, with its reasons, before anything
    is released (release is a second, separate step)."""

    model = Disclosure
    template_name = "privacy/disclosure_form.html"
    allowed_roles = DISCLOSING_ROLES

    def make_form(self, data=None):
        return DisclosureForm(data, contacts=self.get_patient().contacts.order_by("name", "id"))

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.make_form())
        return super().get_context_data(patient=self.get_patient(), **kwargs)

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                disclosure = services.disclosure_request(
                    patient=patient, requested_by=request.user, audit=audit_context(request), **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return redirect("privacy:disclosure", pk=disclosure.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DisclosureMixin(StaffRequiredMixin):
    model = Disclosure
    allowed_roles = DISCLOSING_ROLES

    def get_disclosure(self) -> Disclosure:
        disclosure = get_object_or_404(disclosures_visible_to(self.request.user), pk=self.kwargs["pk"])
        if not access.can_view_disclosures(self.request.user, disclosure.patient):
            raise PermissionDenied
        return disclosure


class DisclosureDetailView(DisclosureMixin, TemplateView):
    """The decision: allowed or denied, what is released and withheld, and why."""

    template_name = "privacy/disclosure_detail.html"

    def get_context_data(self, **kwargs):
        disclosure = self.get_disclosure()
        user = self.request.user
        withheld = [
            DataCategory(category).label
            for category in disclosure.data_categories_requested
            if category not in disclosure.data_categories_released
        ]
        return super().get_context_data(
            disclosure=disclosure,
            patient=disclosure.patient,
            released=[DataCategory(category).label for category in disclosure.data_categories_released],
            withheld=withheld,
            can_release=disclosure.allowed and not disclosure.is_released and disclosure.requested_by_id == user.pk,
            can_view_package=disclosure.is_released and access.can_view_disclosure_package(user, disclosure),
            **kwargs,
        )


class DisclosureReleaseView(DisclosureMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        disclosure = self.get_disclosure()
        try:
            services.disclosure_release(disclosure=disclosure, released_by=request.user, audit=audit_context(request))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The disclosure is released. Send the package below to the recipient.")
        return redirect("privacy:disclosure", pk=disclosure.pk)


class DisclosurePackageMixin(DisclosureMixin):
    def get_package(self) -> Disclosure:
        disclosure = self.get_disclosure()
        if not disclosure.is_released or not access.can_view_disclosure_package(self.request.user, disclosure):
            raise PermissionDenied
        services.audit_entry_record(
            action=AuditAction.VIEW,
            obj=disclosure,
            context=audit_context(self.request),
            purpose=AuditPurpose.DISCLOSURE,
            details={"package": True},
        )
        return disclosure


class DisclosurePackageView(DisclosurePackageMixin, TemplateView):
    """The released package as a printable page."""

    template_name = "privacy/disclosure_package.html"

    def get_context_data(self, **kwargs):
        disclosure = self.get_package()
        return super().get_context_data(disclosure=disclosure, package=disclosure.package, **kwargs)


class DisclosurePackageJsonView(DisclosurePackageMixin, View):
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        disclosure = self.get_package()
        return _json_download(disclosure.package, f"disclosure-{disclosure.pk}.json")


class DisclosureRegisterView(StaffRequiredMixin, TemplateView):
    """Every disclosure decision of the organisation: the Caldicott lead's register."""

    model = Disclosure
    template_name = "privacy/disclosure_register.html"
    allowed_roles = (Role.ADMIN,)

    def get_context_data(self, **kwargs):
        show = self.request.GET.get("show", "")
        allowed = {"allowed": True, "denied": False}.get(show)
        page = Paginator(disclosure_register(user=self.request.user, allowed=allowed), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(page=page, show=show, **kwargs)


class BreakGlassRequestView(PatientPrivacyMixin, TemplateView):
    """A practitioner without a care relationship states why they need the notes now."""

    model = BreakGlassGrant
    template_name = "privacy/break_glass_form.html"
    allowed_roles = (Role.PRACTITIONER,)

    def get_context_data(self, **kwargs):
        patient = self.get_patient()
        kwargs.setdefault("form", BreakGlassForm())
        return super().get_context_data(
            patient=patient,
            cares_for=access.cares_for(self.request.user, patient),
            active_grant=access.active_break_glass_grant(self.request.user, patient),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        form = BreakGlassForm(request.POST)
        if form.is_valid():
            try:
                grant = services.break_glass_grant(
                    patient=patient,
                    practitioner=request.user,
                    reason=form.cleaned_data["reason"],
                    audit=audit_context(request),
                )
            except DomainError as error:
                add_domain_error(form, error)
                return self.render_to_response(self.get_context_data(form=form), status=403)
            messages.warning(
                request,
                f"Break-glass access until {grant.expires_at:%H:%M}. Every look at the notes is recorded "
                "with your reason and reviewed by your admin.",
            )
            return redirect(self.patient_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


class BreakGlassReviewListView(StaffRequiredMixin, TemplateView):
    """Break-glass grants for the admin to review, then the latest reviewed ones."""

    model = BreakGlassGrant
    template_name = "privacy/break_glass_review.html"
    allowed_roles = (Role.ADMIN,)

    def get_context_data(self, **kwargs):
        grants = break_glass_grants_visible_to(self.request.user)
        return super().get_context_data(
            to_review=grants.filter(reviewed_at__isnull=True),
            reviewed=grants.filter(reviewed_at__isnull=False)[:PAGE_SIZE],
            form=BreakGlassReviewForm(),
            **kwargs,
        )


class BreakGlassReviewView(StaffRequiredMixin, View):
    model = BreakGlassGrant
    allowed_roles = (Role.ADMIN,)
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        grant = get_object_or_404(break_glass_grants_visible_to(request.user), pk=self.kwargs["pk"])
        form = BreakGlassReviewForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            services.break_glass_review(grant=grant, reviewer=request.user, note=note, audit=audit_context(request))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Marked as reviewed.")
        return redirect("privacy:break-glass-review")


class SubjectAccessMixin(PatientPrivacyMixin):
    model = Patient
    allowed_roles = DISCLOSING_ROLES

    def export(self, file_format: str) -> dict:
        patient = self.get_patient()
        if not access.can_export_record(self.request.user, patient):
            raise PermissionDenied
        return services.subject_access_export(
            patient=patient, exported_by=self.request.user, audit=audit_context(self.request), file_format=file_format
        )


class SubjectAccessExportView(SubjectAccessMixin, TemplateView):
    """Everything held about the patient, as a printable page (for the patient)."""

    template_name = "privacy/subject_access.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.get_patient(), export=self.export("page"), **kwargs)


class SubjectAccessExportJsonView(SubjectAccessMixin, View):
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        patient = self.get_patient()
        return _json_download(self.export("json"), f"subject-access-{patient.pk}.json")


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
