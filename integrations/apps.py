from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The integrations engine (outbox, sync health, patient email); providers are sub-apps."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from diary import change_listeners
        from integrations import outbox, services
        from integrations.google.sync import GoogleCalendarDestination

        outbox.register_destination(GoogleCalendarDestination)
        change_listeners.register(services.on_appointment_change)
