from django.apps import AppConfig


class ZoomConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations.zoom"
    label = "zoom_integration"
    verbose_name = "Zoom telehealth"
