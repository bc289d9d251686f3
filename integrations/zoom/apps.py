from django.apps import AppConfig


class ZoomConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations.zoom"
    label = "zoom_integration"
    verbose_name = "Zoom telehealth"

    def ready(self):
        from diary import change_listeners
        from integrations import outbox
        from integrations.zoom import mail, services
        from integrations.zoom.sync import ZoomMeetingDestination

        outbox.register_destination(ZoomMeetingDestination)
        change_listeners.register(services.meeting_request_on_appointment_change)
        change_listeners.register(mail.zoom_link_follow_move)
