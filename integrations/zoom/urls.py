from django.urls import path

from integrations.zoom import views

app_name = "zoom"

urlpatterns = [
    path("", views.ZoomSettingsView.as_view(), name="settings"),
    path("connect/", views.ZoomConnectView.as_view(), name="connect"),
    path("oauth/callback/", views.ZoomOAuthCallbackView.as_view(), name="oauth-callback"),
    path("preferences/", views.ZoomPreferencesView.as_view(), name="preferences"),
    path("disconnect/", views.ZoomDisconnectView.as_view(), name="disconnect"),
    path("users/link/", views.ZoomLinkUsersView.as_view(), name="link-users"),
    path("users/create/", views.ZoomCreateUserView.as_view(), name="create-user"),
    path("audit/", views.ZoomAuditListView.as_view(), name="audit"),
    path(
        "appointments/<uuid:appointment_pk>/meeting/",
        views.AppointmentZoomCreateView.as_view(),
        name="appointment-create",
    ),
    path(
        "appointments/<uuid:appointment_pk>/start/", views.AppointmentZoomStartView.as_view(), name="appointment-start"
    ),
    path(
        "appointments/<uuid:appointment_pk>/email-link/",
        views.AppointmentZoomEmailLinkView.as_view(),
        name="appointment-email-link",
    ),
    path(
        "appointments/<uuid:appointment_pk>/dismiss-flag/",
        views.AppointmentZoomDismissFlagView.as_view(),
        name="appointment-dismiss-flag",
    ),
    path("webhook/", views.webhook, name="webhook"),
]
