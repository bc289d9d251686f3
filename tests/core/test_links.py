"""Links in email are absolute: `SITE_URL` followed by the page's path."""

import uuid

import pytest
from django.test import override_settings
from django.urls import reverse

from core.links import absolute_url, site_url


@override_settings(SITE_URL="https://jelly.example-clinic.co.uk")
def test_a_named_page_is_linked_on_the_site_url():
    assert absolute_url("google:connection") == "https://jelly.example-clinic.co.uk" + reverse("google:connection")


@override_settings(SITE_URL="https://jelly.example-clinic.co.uk")
def test_url_arguments_are_passed_to_reverse_by_keyword_or_position():
    pk = uuid.uuid4()
    path = reverse("diary:appointment", kwargs={"pk": pk})

    assert absolute_url("diary:appointment", pk=pk) == f"https://jelly.example-clinic.co.uk{path}"
    assert absolute_url("diary:appointment", pk) == f"https://jelly.example-clinic.co.uk{path}"


@override_settings(SITE_URL="http://127.0.0.1:8000")
def test_a_path_is_joined_to_the_site_url_with_one_slash():
    assert site_url("/integrations/sync/?calendar=1") == "http://127.0.0.1:8000/integrations/sync/?calendar=1"


@pytest.mark.parametrize("path", ["integrations/sync/", "//evil.example/", "https://evil.example/", ""])
def test_only_a_path_on_jellys_site_is_accepted(path):
    with pytest.raises(ValueError, match="is not a path on Jelly's site"):
        site_url(path)
