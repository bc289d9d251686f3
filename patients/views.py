"""Patient pages. Every patient comes from `visible_to(request.user)` (404 for other clinics);
clinical notes appear only for practitioners with a care relationship, or a break-glass grant
(`can_read_notes`). Viewing a record, reading notes and every change are audited
(`privacy.services.audit_entry_record`): one entry per page view.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from core.choices import ALL_ROLES, Role
from core.exceptions import DomainError
from core.views import StaffRequiredMixin
from patients import services
from patients.filters import PatientFilter
from patients.forms import (
    AddendumForm,
    CareTeamAddForm,
    ContactForm,
    NoteForm,
    NoteTemplateChoiceForm,
    PatientForm,
    add_domain_error,
    add_validation_error,
)
from patients.models import ClinicalNote, Contact, Patient
from patients.permissions import can_manage_care_team, can_read_notes, can_write_notes
from patients.selectors import (
    note_appointment_choices,
    note_templates_for,
    notes_for_patient,
    notes_visible_to,
    patient_detail,
    patient_list,
    practitioners_for,
)
from privacy import access
from privacy.audit import audit_context
from privacy.choices import AuditAction, AuditPurpose
from privacy.selectors import with_objection_marker
from privacy.services import audit_entry_record

PAGE_SIZE = 25


class PatientMixin(StaffRequiredMixin):
    """Views under /patients/<patient_pk>/: the patient of the signed-in user's organisation."""

    patient_kwarg = "patient_pk"

    def get_patient(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = get_object_or_404(
                Patient.objects.visible_to(self.request.user), pk=self.kwargs[self.patient_kwarg]
            )
        return self._patient

    def patient_url(self) -> str:
        return reverse("patients:detail", kwargs={"pk": self.get_patient().pk})


class PatientListView(StaffRequiredMixin, TemplateView):
    """The patient list with one search box; HTMX swaps in the results as you type."""

    model = Patient
    template_name = "patients/patient_list.html"
    allowed_roles = ALL_ROLES

    def get_context_data(self, **kwargs):
        data = QueryDict(mutable=True)
        data.update(self.request.GET)
        show_archived = data.get("archived") in ("true", "on", "1")
        if show_archived:
            data.pop("archived")
        else:
            data["archived"] = "false"
        search = PatientFilter(data, queryset=patient_list(user=self.request.user))
        page = Paginator(search.qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.get("q", "").strip()
        params = QueryDict(mutable=True)
        if query:
            params["q"] = query
        if show_archived:
            params["archived"] = "true"
        return super().get_context_data(
            page=page, query=query, show_archived=show_archived, querystring=params.urlencode(), **kwargs
        )


class PatientSearchResultsView(PatientListView):
    """Just the results table (the HTMX target)."""

    template_name = "patients/_results.html"


class PatientDetailView(StaffRequiredMixin, TemplateView):
    model = Patient
    template_name = "patients/patient_detail.html"
    allowed_roles = ALL_ROLES

    def get_context_data(self, **kwargs):
        user = self.request.user
        try:
            patient = patient_detail(user=user, pk=self.kwargs["pk"])
        except Patient.DoesNotExist as exc:
            raise Http404("No such patient.") from exc
        context = {
            "patient": patient,
            "contacts": patient.contacts.all(),
            "care_team": patient.care_team.all(),
            "can_read_notes": can_read_notes(user, patient),
            "can_write_notes": can_write_notes(user, patient),
            "can_manage_care_team": can_manage_care_team(user, patient),
            "can_request_break_glass": access.can_request_break_glass(user, patient),
            "can_view_disclosures": access.can_view_disclosures(user, patient),
            "can_export_record": access.can_export_record(user, patient),
        }
        if context["can_read_notes"]:
            context["notes"] = list(notes_for_patient(user=user, patient=patient))
            context["template_form"] = NoteTemplateChoiceForm(templates=note_templates_for(user=user))
            if not access.cares_for(user, patient):
                context["break_glass_grant"] = access.active_break_glass_grant(user, patient)
        if context["can_manage_care_team"]:
            on_team = [member.practitioner_id for member in context["care_team"]]
            context["care_team_form"] = CareTeamAddForm(
                practitioners=practitioners_for(user=user).exclude(pk__in=on_team)
            )
        self.audit_view(patient, context)
        return super().get_context_data(**context, **kwargs)

    def audit_view(self, patient: Patient, context: dict) -> None:
        """One entry for the page: the record was viewed, with its notes if they were shown."""
        grant = context.get("break_glass_grant")
        if "notes" not in context:
            action, details = AuditAction.VIEW, None
        else:
            action, details = AuditAction.READ_NOTES, {"notes": len(context["notes"])}
        if grant is not None:
            details = {**(details or {}), "break_glass_grant": str(grant.pk)}
        audit_entry_record(
            action=action,
            obj=patient,
            context=audit_context(self.request),
            purpose=AuditPurpose.BREAK_GLASS if grant is not None else "",
            reason=grant.reason if grant is not None else "",
            details=details,
        )


class PatientCreateView(StaffRequiredMixin, TemplateView):
    model = Patient
    template_name = "patients/patient_form.html"
    allowed_roles = ALL_ROLES

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def make_form(self, data=None):
        return PatientForm(data, instance=Patient(organisation=self.request.user.organisation))

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                patient = services.patient_create(
                    organisation=request.user.organisation,
                    created_by=request.user,
                    audit=audit_context(request),
                    **form.cleaned_data,
                )
            except DomainError as error:
                add_domain_error(form, error)
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, f"{patient} is registered.")
                return redirect("patients:detail", pk=patient.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PatientUpdateView(StaffRequiredMixin, TemplateView):
    model = Patient
    template_name = "patients/patient_form.html"
    allowed_roles = ALL_ROLES

    def get_patient(self) -> Patient:
        return get_object_or_404(
            with_objection_marker(Patient.objects.visible_to(self.request.user)), pk=self.kwargs["pk"]
        )

    def get(self, request, *args, **kwargs):
        patient = self.get_patient()
        audit_entry_record(action=AuditAction.VIEW, obj=patient, context=audit_context(request))
        return self.render_to_response(self.get_context_data(form=PatientForm(instance=patient), patient=patient))

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        form = PatientForm(request.POST, instance=patient)
        if form.is_valid():
            try:
                patient = services.patient_update(
                    patient=patient, changes=form.cleaned_data, audit=audit_context(request)
                )
            except DomainError as error:
                add_domain_error(form, error)
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, "The patient's details are saved.")
                return redirect("patients:detail", pk=patient.pk)
        patient.refresh_from_db()
        return self.render_to_response(self.get_context_data(form=form, patient=patient), status=400)


class PatientArchiveView(StaffRequiredMixin, View):
    """POST: archive (or, with `restore`, bring back) a patient. Nothing is deleted."""

    model = Patient
    allowed_roles = ALL_ROLES
    http_method_names = ["post"]

    def post(self, request, pk):
        patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
        restore = bool(request.POST.get("restore"))
        services.patient_archive(patient=patient, archived=not restore, audit=audit_context(request))
        messages.success(request, f"{patient} is {'restored' if restore else 'archived'}.")
        return redirect("patients:detail", pk=patient.pk)


class ContactFormView(PatientMixin, TemplateView):
    """Add a contact, or (with `pk`) change one."""

    model = Contact
    template_name = "patients/contact_form.html"
    allowed_roles = ALL_ROLES

    def get_contact(self) -> Contact | None:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(
            Contact.objects.visible_to(self.request.user), pk=self.kwargs["pk"], patient=self.get_patient()
        )

    def get(self, request, *args, **kwargs):
        form = ContactForm(instance=self.get_contact())
        return self.render_to_response(self.get_context_data(form=form, patient=self.get_patient()))

    def post(self, request, *args, **kwargs):
        contact = self.get_contact()
        patient = self.get_patient()
        form = ContactForm(request.POST, instance=contact)
        if form.is_valid():
            try:
                if contact is None:
                    services.contact_create(patient=patient, audit=audit_context(request), **form.cleaned_data)
                else:
                    services.contact_update(contact=contact, changes=form.cleaned_data, audit=audit_context(request))
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, "The contact is saved.")
                return redirect(self.patient_url())
        return self.render_to_response(self.get_context_data(form=form, patient=patient), status=400)


class CareTeamAddView(PatientMixin, View):
    allowed_roles = (Role.ADMIN, Role.PRACTITIONER)
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not can_manage_care_team(request.user, patient):
            raise PermissionDenied
        form = CareTeamAddForm(request.POST, practitioners=practitioners_for(user=request.user))
        if form.is_valid():
            try:
                services.care_team_member_add(
                    patient=patient,
                    practitioner=form.cleaned_data["practitioner"],
                    added_by=request.user,
                    audit=audit_context(request),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"{form.cleaned_data['practitioner']} is on the care team.")
        else:
            messages.error(request, "Choose a practitioner to add.")
        return redirect(self.patient_url())


class CareTeamRemoveView(PatientMixin, View):
    allowed_roles = (Role.ADMIN, Role.PRACTITIONER)
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        patient = self.get_patient()
        if not can_manage_care_team(request.user, patient):
            raise PermissionDenied
        practitioner = get_object_or_404(practitioners_for(user=request.user), pk=self.kwargs["practitioner_pk"])
        try:
            services.care_team_member_remove(patient=patient, practitioner=practitioner, audit=audit_context(request))
        except DomainError as error:
            raise Http404(error.message) from error
        messages.success(request, f"{practitioner} is no longer on the care team.")
        return redirect(self.patient_url())


class NotesMixin(PatientMixin):
    """Clinical note pages: practitioners caring for the patient, and nobody else (403)."""

    model = ClinicalNote
    allowed_roles = (Role.PRACTITIONER,)

    def dispatch(self, request, *args, **kwargs):
        practitioner = request.user.is_authenticated and request.user.has_role(Role.PRACTITIONER)
        if practitioner and not can_write_notes(request.user, self.get_patient()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_note(self) -> ClinicalNote:
        note = notes_visible_to(self.request.user).filter(pk=self.kwargs["pk"], patient=self.get_patient()).first()
        if note is None:
            if ClinicalNote.objects.visible_to(self.request.user).filter(pk=self.kwargs["pk"]).exists():
                raise PermissionDenied
            raise Http404("No such note.")
        return note

    def note_url(self, note: ClinicalNote) -> str:
        return f"{self.patient_url()}#note-{note.pk}"

    def appointments(self):
        return note_appointment_choices(user=self.request.user, patient=self.get_patient())


class NoteCreateView(NotesMixin, TemplateView):
    """Write a draft note, laid out by the chosen template (`?template=`)."""

    template_name = "patients/note_form.html"

    def chosen_template(self):
        templates = note_templates_for(user=self.request.user)
        choice = NoteTemplateChoiceForm(self.request.GET or self.request.POST, templates=templates)
        if choice.is_valid():
            return choice.cleaned_data["template"]
        return None

    def get(self, request, *args, **kwargs):
        template = self.chosen_template()
        form = NoteForm(template=template, appointments=self.appointments())
        return self.render_to_response(self.get_context_data(form=form, template=template, patient=self.get_patient()))

    def post(self, request, *args, **kwargs):
        template = self.chosen_template()
        patient = self.get_patient()
        form = NoteForm(request.POST, template=template, appointments=self.appointments())
        if form.is_valid():
            try:
                note = services.note_create(
                    patient=patient,
                    author=request.user,
                    text=form.cleaned_data["text"],
                    sections=form.sections(),
                    template=template,
                    appointment=form.cleaned_data["appointment"],
                    sign=bool(request.POST.get("sign")),
                    audit=audit_context(request),
                )
            except DomainError as error:
                add_domain_error(form, error)
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, "The note is signed." if note.is_signed else "The draft is saved.")
                return redirect(self.note_url(note))
        return self.render_to_response(self.get_context_data(form=form, template=template, patient=patient), status=400)


class NoteEditView(NotesMixin, TemplateView):
    """Change a draft (and optionally sign it). Signed notes are not edited: 409."""

    template_name = "patients/note_form.html"

    def get(self, request, *args, **kwargs):
        note = self.get_note()
        if note.is_signed:
            return redirect(self.note_url(note))
        form = NoteForm(
            initial={"text": note.text, "appointment": note.appointment_id},
            template=note.template,
            sections=note.sections,
            appointments=self.appointments(),
        )
        audit_entry_record(action=AuditAction.READ_NOTES, obj=note, context=audit_context(request))
        context = self.get_context_data(form=form, template=note.template, note=note, patient=self.get_patient())
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        note = self.get_note()
        form = NoteForm(request.POST, template=note.template, sections=note.sections, appointments=self.appointments())
        status = 400
        if form.is_valid():
            try:
                note = services.note_update(
                    note=note,
                    editor=request.user,
                    text=form.cleaned_data["text"],
                    sections=form.sections(),
                    appointment=form.cleaned_data["appointment"],
                    audit=audit_context(request),
                )
                if request.POST.get("sign"):
                    note = services.note_sign(note=note, signer=request.user, audit=audit_context(request))
            except DomainError as error:
                add_domain_error(form, error)
                status = 409 if error.conflict else 400
            else:
                messages.success(request, "The note is signed." if note.is_signed else "The draft is saved.")
                return redirect(self.note_url(note))
        context = self.get_context_data(form=form, template=note.template, note=note, patient=self.get_patient())
        return self.render_to_response(context, status=status)


class NoteSignView(NotesMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        note = self.get_note()
        try:
            services.note_sign(note=note, signer=request.user, audit=audit_context(request))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The note is signed.")
        return redirect(self.note_url(note))


class NoteAddendumView(NotesMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        note = self.get_note()
        form = AddendumForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Write the addendum before adding it.")
            return redirect(self.note_url(note))
        try:
            services.note_addendum_add(
                note=note, author=request.user, text=form.cleaned_data["text"], audit=audit_context(request)
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The addendum is added.")
        return redirect(self.note_url(note))
