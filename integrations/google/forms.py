from django import forms


class DisconnectForm(forms.Form):
    remove_pushed_events = forms.BooleanField(
        required=False,
        label="Also remove the appointments Jelly added to my Google Calendar",
        help_text="Otherwise they stay in your calendar but Jelly no longer updates them.",
    )
