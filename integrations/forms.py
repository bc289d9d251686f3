"""Page forms of the integrations app: they check input; the services do the writing."""

import uuid

from django import forms

LETTER_SUBJECT_MAX = 150
LETTER_BODY_MAX = 10_000


class LetterForm(forms.Form):
    """A free-form letter to a patient, sent by email in the clinic's letter template."""

    subject = forms.CharField(max_length=LETTER_SUBJECT_MAX, strip=True)
    body = forms.CharField(
        label="Letter",
        max_length=LETTER_BODY_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="The clinic's letter template adds “Dear …” and the clinic's name around it.",
    )
    # One per page load: sending the same form twice (a double click, a resubmitted page)
    # sends one letter.
    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
