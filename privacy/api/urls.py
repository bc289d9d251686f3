"""Privacy API routes (included under /api/v1/).

URL kwargs: `pk` is the route's own object; `patient_pk` names the patient.
"""

from django.urls import path

from privacy.api import views

urlpatterns = [
    path("patients/<uuid:patient_pk>/consents/", views.ConsentListView.as_view(), name="api-patient-consent-list"),
    path(
        "patients/<uuid:patient_pk>/nhs-number-objection/",
        views.NhsNumberObjectionView.as_view(),
        name="api-patient-nhs-number-objection",
    ),
    path(
        "patients/<uuid:patient_pk>/disclosures/",
        views.PatientDisclosureListView.as_view(),
        name="api-patient-disclosure-list",
    ),
    path("patients/<uuid:patient_pk>/export/", views.SubjectAccessExportView.as_view(), name="api-patient-export"),
    path("disclosures/", views.DisclosureListView.as_view(), name="api-disclosure-list"),
    path("disclosures/<uuid:pk>/", views.DisclosureDetailView.as_view(), name="api-disclosure-detail"),
]
