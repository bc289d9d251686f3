"""`{% zoom_appointment_panel appointment as zoom %}`: what the appointment's Zoom panel shows,
read through `selectors.appointment_zoom_panel` for the signed-in user."""

from django import template

from integrations.zoom import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def zoom_appointment_panel(context, appointment):
    request = context.get("request")
    user = getattr(request, "user", None)
    if appointment is None or user is None or not user.is_authenticated:
        return None
    return selectors.appointment_zoom_panel(user=user, appointment=appointment)
