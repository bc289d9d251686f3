"""Admin for patients (with contacts and care team inline, and a CSV import) and note templates.

Clinical notes and addenda are deliberately NOT registered: admins never see note content.
"""

import csv
import io
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path

from core.admin import OrganisationScopedAdmin, is_organisation_admin
from core.models import Staff
from patients import services
from patients.forms import PatientForm, PatientImportForm
from patients.models import CareTeamMember, Contact, NoteTemplate, Patient
from patients.validators import normalise_phone
from privacy.audit import audit_context
from privacy.choices import AuditAction
from privacy.services import audit_entry_record


def _scoped_inline_formset(organisation_id):
    class OrganisationInlineFormSet(BaseInlineFormSet):
        """New inline rows belong to the parent's organisation (set before validation)."""

        def _construct_form(self, i, **kwargs):
            form = super()._construct_form(i, **kwargs)
            form.instance.organisation_id = self.instance.organisation_id or organisation_id
            return form

    return OrganisationInlineFormSet


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class OrganisationScopedInline(admin.TabularInline):
    extra = 0
    exclude = ["organisation"]

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["formset"] = _scoped_inline_formset(
            obj.organisation_id if obj is not None else request.user.organisation_id
        )
        return super().get_formset(request, obj, **kwargs)

    def _allowed(self, request) -> bool:
        return request.user.is_superuser or is_organisation_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class ContactAdminForm(forms.ModelForm):
    phone = forms.CharField(max_length=30, required=False)

    class Meta:
        model = Contact
        fields = ["name", "relationship", "phone", "email", "authority"]

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data.get("phone", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class ContactInline(OrganisationScopedInline):
    model = Contact
    form = ContactAdminForm
    fields = ["name", "relationship", "phone", "email", "authority"]


class CareTeamMemberInline(OrganisationScopedInline):
    model = CareTeamMember
    fields = ["practitioner", "added_by", "added_at"]
    readonly_fields = ["added_by", "added_at"]

    def has_change_permission(self, request, obj=None):
        # A member is added or removed, never switched to another practitioner.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "practitioner":
            practitioners = Staff.objects.practitioners()
            if not request.user.is_superuser:
                practitioners = practitioners.filter(organisation_id=request.user.organisation_id)
            kwargs["queryset"] = practitioners
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PatientAdminForm(PatientForm):
    class Meta(PatientForm.Meta):
        fields = [*PatientForm.Meta.fields, "archived"]


@admin.register(Patient)
class PatientAdmin(OrganisationScopedAdmin):
    form = PatientAdminForm
    change_list_template = "patients/admin/patient_change_list.html"
    list_display = ["family_name", "given_name", "date_of_birth", "nhs_number", "postcode", "archived"]
    list_filter = ["archived", "deceased", "gender"]
    search_fields = ["family_name", "given_name", "nhs_number", "postcode"]
    readonly_fields = ["nhs_number_status", "archived_at", "created_at", "updated_at"]
    inlines = [ContactInline, CareTeamMemberInline]
    fieldsets = [
        (None, {"fields": ["given_name", "family_name", "preferred_name", "date_of_birth", "gender"]}),
        ("NHS", {"fields": ["nhs_number", "nhs_number_status", "registered_gp_practice"]}),
        ("Contact details", {"fields": ["email", "phone", "address_line1", "address_line2", "town", "postcode"]}),
        ("Status", {"fields": ["deceased", "date_of_death", "archived", "archived_at", "created_at", "updated_at"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return [("Organisation", {"fields": ["organisation"]}), *fieldsets]
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.organisation_id = obj.organisation_id if obj is not None else request.user.organisation_id
        return form

    def save_model(self, request, obj, form, change):
        """Through the services, like every other write (NHS status, archive time, care team)."""
        editable = [name for name in services.PATIENT_EDITABLE_FIELDS if name in form.cleaned_data]
        if change:
            changes = {name: form.cleaned_data[name] for name in editable if name in form.changed_data}
            saved = services.patient_update(patient=obj, changes=changes, audit=audit_context(request))
        else:
            organisation = obj.organisation if request.user.is_superuser else request.user.organisation
            data = {name: form.cleaned_data[name] for name in editable}
            saved = services.patient_create(
                organisation=organisation, created_by=request.user, audit=audit_context(request), **data
            )
        # Admin carries on with `obj` (inlines, change message, redirect).
        obj.pk = saved.pk
        obj.organisation_id = saved.organisation_id
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_formset(self, request, form, formset, change):
        """Contacts and care team members change through the services too."""
        if formset.model not in (Contact, CareTeamMember):
            return super().save_formset(request, form, formset, change)
        patient = form.instance
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            if isinstance(obj, Contact):
                services.contact_delete(contact=obj, audit=audit_context(request))
            else:
                services.care_team_member_remove(
                    patient=patient, practitioner=obj.practitioner, audit=audit_context(request)
                )
        for obj, changed in formset.changed_objects:
            if isinstance(obj, Contact):
                services.contact_update(
                    contact=obj, changes={name: getattr(obj, name) for name in changed}, audit=audit_context(request)
                )
        for obj in formset.new_objects:
            if isinstance(obj, Contact):
                services.contact_create(
                    patient=patient,
                    audit=audit_context(request),
                    **{name: getattr(obj, name) for name in services.CONTACT_EDITABLE_FIELDS},
                )
            else:
                services.care_team_member_add(
                    patient=patient, practitioner=obj.practitioner, added_by=request.user, audit=audit_context(request)
                )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Opening a patient's record in admin is a view of it, audited like the patient page."""
        if request.method == "GET":
            patient = self.get_queryset(request).filter(pk=object_id).first() if _is_uuid(object_id) else None
            if patient is not None:
                audit_entry_record(action=AuditAction.VIEW, obj=patient, context=audit_context(request))
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="patients_patient_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload a CSV of patients; the same service as `manage.py import_patients`."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        form = PatientImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            if request.user.organisation is None:
                form.add_error(None, "Operators import with `manage.py import_patients --organisation SLUG`.")
            else:
                try:
                    lines = io.TextIOWrapper(form.cleaned_data["file"].file, encoding="utf-8-sig", newline="")
                    report = services.patients_import(
                        organisation=request.user.organisation,
                        lines=lines,
                        skip_invalid=form.cleaned_data["skip_invalid"],
                        dry_run=form.cleaned_data["dry_run"],
                        audit=audit_context(request),
                    )
                except (UnicodeDecodeError, csv.Error) as exc:
                    form.add_error("file", f"This file cannot be read as CSV text (UTF-8): {exc}")
                else:
                    if report.committed:
                        messages.success(request, f"Imported {report.imported} patients.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import patients from CSV",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "patients/admin/import.html", context)


class NoteTemplateAdminForm(forms.ModelForm):
    headings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), help_text="One section heading per line, in order."
    )

    class Meta:
        model = NoteTemplate
        fields = ["name", "headings", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["headings"].initial = "\n".join(self.instance.section_headings)

    def clean_headings(self):
        return [line.strip() for line in self.cleaned_data["headings"].splitlines() if line.strip()]

    def _post_clean(self):
        if "headings" in self.cleaned_data:
            self.instance.section_headings = self.cleaned_data["headings"]
        super()._post_clean()


@admin.register(NoteTemplate)
class NoteTemplateAdmin(OrganisationScopedAdmin):
    form = NoteTemplateAdminForm
    list_display = ["name", "headings_summary", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def get_fields(self, request, obj=None):
        fields = ["name", "headings", "is_active"]
        return ["organisation", *fields] if request.user.is_superuser else fields

    @admin.display(description="Sections")
    def headings_summary(self, obj):
        return " / ".join(obj.section_headings)
