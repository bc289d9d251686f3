from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.PatientListView.as_view(), name="list"),
    path("search/", views.PatientSearchResultsView.as_view(), name="search"),
    path("new/", views.PatientCreateView.as_view(), name="create"),
    path("<uuid:pk>/", views.PatientDetailView.as_view(), name="detail"),
    path("<uuid:pk>/edit/", views.PatientUpdateView.as_view(), name="edit"),
    path("<uuid:pk>/archive/", views.PatientArchiveView.as_view(), name="archive"),
    path("<uuid:patient_pk>/contacts/new/", views.ContactFormView.as_view(), name="contact-create"),
    path("<uuid:patient_pk>/contacts/<uuid:pk>/edit/", views.ContactFormView.as_view(), name="contact-edit"),
    path("<uuid:patient_pk>/care-team/add/", views.CareTeamAddView.as_view(), name="care-team-add"),
    path(
        "<uuid:patient_pk>/care-team/<uuid:practitioner_pk>/remove/",
        views.CareTeamRemoveView.as_view(),
        name="care-team-remove",
    ),
    path("<uuid:patient_pk>/notes/new/", views.NoteCreateView.as_view(), name="note-create"),
    path("<uuid:patient_pk>/notes/<uuid:pk>/edit/", views.NoteEditView.as_view(), name="note-edit"),
    path("<uuid:patient_pk>/notes/<uuid:pk>/sign/", views.NoteSignView.as_view(), name="note-sign"),
    path("<uuid:patient_pk>/notes/<uuid:pk>/addenda/", views.NoteAddendumView.as_view(), name="note-addendum"),
]
