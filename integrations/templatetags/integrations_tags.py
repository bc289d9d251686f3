from django import template

from integrations.selectors import sync_banner

register = template.Library()


@register.inclusion_tag("integrations/includes/sync_banner.html", takes_context=True)
def sync_health_banner(context):
    """A broken Google connection (the user's own; for admins, anyone's) and failed rows."""
    request = context.get("request")
    user = getattr(request, "user", None)
    banner = sync_banner(user) if user is not None else None
    return {"banner": banner}
