from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.PrivacyHomeView.as_view(), name="home"),
    path("patients/<uuid:patient_pk>/consents/", views.ConsentView.as_view(), name="consents"),
    path("patients/<uuid:patient_pk>/nhs-number-objection/", views.ObjectionView.as_view(), name="objection"),
    path(
        "patients/<uuid:patient_pk>/nhs-number-objection/withdraw/",
        views.ObjectionWithdrawView.as_view(),
        name="objection-withdraw",
    ),
    path("patients/<uuid:patient_pk>/erasure-requests/", views.ErasureRequestView.as_view(), name="erasure-requests"),
    path("patients/<uuid:patient_pk>/disclosures/", views.PatientDisclosuresView.as_view(), name="patient-disclosures"),
    path("patients/<uuid:patient_pk>/disclosures/new/", views.DisclosureCreateView.as_view(), name="disclosure-create"),
    path("patients/<uuid:patient_pk>/break-glass/", views.BreakGlassRequestView.as_view(), name="break-glass"),
    path("patients/<uuid:patient_pk>/export/", views.SubjectAccessExportView.as_view(), name="subject-access"),
    path(
        "patients/<uuid:patient_pk>/export.json",
        views.SubjectAccessExportJsonView.as_view(),
        name="subject-access-json",
    ),
    path("disclosures/", views.DisclosureRegisterView.as_view(), name="register"),
    path("disclosures/<uuid:pk>/", views.DisclosureDetailView.as_view(), name="disclosure"),
    path("disclosures/<uuid:pk>/release/", views.DisclosureReleaseView.as_view(), name="disclosure-release"),
    path("disclosures/<uuid:pk>/package/", views.DisclosurePackageView.as_view(), name="disclosure-package"),
    path(
        "disclosures/<uuid:pk>/package.json", views.DisclosurePackageJsonView.as_view(), name="disclosure-package-json"
    ),
    path("break-glass/", views.BreakGlassReviewListView.as_view(), name="break-glass-review"),
    path("break-glass/<uuid:pk>/review/", views.BreakGlassReviewView.as_view(), name="break-glass-mark-reviewed"),
]
