from django.apps import AppConfig


class GoogleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations.google"
    label = "google_integration"
    verbose_name = "Google Calendar and Gmail"
