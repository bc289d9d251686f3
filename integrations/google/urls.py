from django.urls import path

from integrations.google import views

app_name = "google"

urlpatterns = [
    path("", views.GoogleConnectionView.as_view(), name="connection"),
    path("connect/", views.GoogleConnectView.as_view(), name="connect"),
    path("callback/", views.GoogleCallbackView.as_view(), name="callback"),
    path("disconnect/", views.GoogleDisconnectView.as_view(), name="disconnect"),
]
