from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("sync/", views.SyncHealthView.as_view(), name="sync-health"),
    path("sync/<int:pk>/retry/", views.OutboxEntryRetryView.as_view(), name="outbox-retry"),
    path("email/<int:pk>/retry/", views.EmailDeliveryRetryView.as_view(), name="email-retry"),
    path("patients/<uuid:patient_pk>/letter/", views.LetterView.as_view(), name="letter"),
]
