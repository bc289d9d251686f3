"""Forms of the Zoom settings page. Input checks only; the services do the work."""

from django import forms

from integrations.zoom import selectors

KEEP = "keep"
DELETE = "delete"


class PreferencesForm(forms.Form):
    retain_data_on_uninstall = forms.BooleanField(
        required=False,
        label="Keep Zoom data after disconnecting",
        help_text="Zoom user links, meeting records and the Zoom audit log stay, read-only. "
        "Otherwise they are deleted at once when Zoom is disconnected or the app is uninstalled in Zoom.",
    )
    auto_create_for_telehealth = forms.BooleanField(
        required=False,
        label="Create Zoom meetings for telehealth appointments automatically",
        help_text="Every booked appointment for a telehealth service gets a Zoom meeting hosted by its "
        "practitioner. Otherwise staff create meetings from the appointment.",
    )
    create_users_with_cust_create = forms.BooleanField(
        required=False,
        label="Create Zoom users with custCreate",
        help_text="Only if Zoom has made your account an API partner. These users have no Zoom password "
        "and cannot sign in to Zoom; normally leave this off (Zoom emails new users an activation link).",
    )


class DisconnectForm(forms.Form):
    zoom_data = forms.ChoiceField(
        label="Your organisation's Zoom data",
        choices=[
            (KEEP, "Keep it, read-only"),
            (DELETE, "Delete it now (user links, meeting records, Zoom audit log)"),
        ],
        widget=forms.RadioSelect,
    )

    @property
    def retain_data(self) -> bool:
        return self.cleaned_data["zoom_data"] == KEEP


class CreateZoomUserForm(forms.Form):
    staff = forms.ModelChoiceField(queryset=None, label="Staff member")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = selectors.staff_without_zoom_user(user)


class EmailLinkForm(forms.Form):
    """One click, one email: the token is made when the panel is shown."""

    token = forms.CharField(max_length=64)
