"""Patients API routes (included under /api/v1/).

URL kwargs: `pk` is the route's own object; `patient_pk` and `practitioner_pk` name others.
"""

from django.urls import path

from patients.api import views

patient_list = views.PatientViewSet.as_view({"get": "list", "post": "create"})
patient_detail = views.PatientViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
contact_list = views.ContactViewSet.as_view({"get": "list", "post": "create"})
contact_detail = views.ContactViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
care_team_list = views.CareTeamViewSet.as_view({"get": "list", "post": "create"})
care_team_detail = views.CareTeamViewSet.as_view({"delete": "destroy"})
patient_notes = views.PatientNoteViewSet.as_view({"get": "list", "post": "create"})
note_detail = views.NoteViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
note_sign = views.NoteViewSet.as_view({"post": "sign"})
note_addenda = views.NoteViewSet.as_view({"post": "addenda"})

urlpatterns = [
    path("patients/", patient_list, name="api-patient-list"),
    path("patients/<uuid:pk>/", patient_detail, name="api-patient-detail"),
    path("patients/<uuid:patient_pk>/contacts/", contact_list, name="api-patient-contact-list"),
    path("patients/<uuid:patient_pk>/contacts/<uuid:pk>/", contact_detail, name="api-patient-contact-detail"),
    path("patients/<uuid:patient_pk>/care-team/", care_team_list, name="api-patient-care-team-list"),
    path(
        "patients/<uuid:patient_pk>/care-team/<uuid:practitioner_pk>/",
        care_team_detail,
        name="api-patient-care-team-detail",
    ),
    path("patients/<uuid:patient_pk>/notes/", patient_notes, name="api-patient-note-list"),
    path("notes/<uuid:pk>/", note_detail, name="api-note-detail"),
    path("notes/<uuid:pk>/sign/", note_sign, name="api-note-sign"),
    path("notes/<uuid:pk>/addenda/", note_addenda, name="api-note-addenda"),
]
