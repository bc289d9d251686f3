"""The API's front door: token and session authentication, the two-factor hold, JSON errors."""

import json

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core.models import ApiToken, Staff
from core.services import api_token_create, api_token_revoke
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def token_client(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str)
    assert body["detail"]
    assert "Traceback" not in response.content.decode()
    return body


class TestTokenAuthentication:
    def test_me_describes_the_token_holder(self, api_client_for, alice_practitioner, clinic):
        response = api_client_for(alice_practitioner).get(ME)

        assert response.status_code == 200
        assert response.json() == {
            "id": str(alice_practitioner.id),
            "email": "alice@bath.test",
            "given_name": "Alice",
            "family_name": alice_practitioner.family_name,
            "role": "practitioner",
            "organisation": {"id": str(clinic.id), "name": "Bath Physio", "slug": "bath-physio"},
        }

    def test_each_token_speaks_for_its_own_staff_member(self, api_client_for, alice_practitioner, olga_other):
        assert api_client_for(alice_practitioner).get(ME).json()["email"] == "alice@bath.test"
        olga = api_client_for(olga_other).get(ME).json()
        assert olga["email"] == "olga@other.test"
        assert olga["organisation"]["slug"] == "other-clinic"

    def test_no_credentials_is_401_asking_for_a_token(self, alice_practitioner):
        response = APIClient().get(ME)

        assert_json_error(response, 401)
        assert response["WWW-Authenticate"] == "Token"

    def test_an_unknown_token_is_401(self, alice_practitioner):
        api_token_create(staff=alice_practitioner)

        response = token_client("jly_not-a-real-key-at-all").get(ME)

        body = assert_json_error(response, 401)
        assert body["detail"] == "Invalid or revoked token."
        assert response["WWW-Authenticate"] == "Token"

    def test_a_token_with_the_wrong_keyword_is_401(self, alice_practitioner):
        _, key = api_token_create(staff=alice_practitioner)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

        assert_json_error(api.get(ME), 401)

    def test_a_revoked_token_is_401(self, alice_practitioner):
        token, key = api_token_create(staff=alice_practitioner)
        assert token_client(key).get(ME).status_code == 200

        api_token_revoke(token=token)

        assert_json_error(token_client(key).get(ME), 401)

    def test_a_token_of_a_deactivated_staff_member_is_401(self, alice_practitioner):
        _, key = api_token_create(staff=alice_practitioner)
        alice_practitioner.is_active = False
        alice_practitioner.save(update_fields=["is_active"])

        assert_json_error(token_client(key).get(ME), 401)

    def test_using_a_token_records_when_it_was_last_used(self, alice_practitioner):
        token, key = api_token_create(staff=alice_practitioner)
        assert token.last_used_at is None

        token_client(key).get(ME)

        token.refresh_from_db()
        assert token.last_used_at is not None
        assert token.last_used_at >= token.created_at

    def test_last_used_is_not_rewritten_on_every_request(self, alice_practitioner):
        token, key = api_token_create(staff=alice_practitioner)
        api = token_client(key)
        api.get(ME)
        first_use = ApiToken.objects.get(pk=token.pk).last_used_at

        api.get(ME)

        assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use


class TestSessionAuthentication:
    def test_a_signed_in_browser_session_can_use_the_api(self, client_for, rita_receptionist):
        response = client_for(rita_receptionist).get(ME)

        assert response.status_code == 200
        assert response.json()["email"] == "rita@bath.test"
        assert response.json()["role"] == "receptionist"

    def test_an_unverified_session_is_held_when_the_organisation_requires_two_factor(
        self, client_for, alice_practitioner, clinic
    ):
        clinic.require_two_factor = True
        clinic.save(update_fields=["require_two_factor"])

        response = client_for(alice_practitioner).get(ME)

        body = assert_json_error(response, 403)
        assert body["detail"] == "Two-factor verification is required."

    def test_an_unverified_session_is_held_when_the_staff_member_has_enrolled(self, client_for, alice_practitioner):
        assert alice_practitioner.organisation.require_two_factor is False
        TOTPDevice.objects.create(user=alice_practitioner, name="Phone", confirmed=True)

        assert_json_error(client_for(alice_practitioner).get(ME), 403)

    def test_two_factor_in_another_organisation_does_not_hold_this_one(
        self, client_for, alice_practitioner, other_clinic
    ):
        other_clinic.require_two_factor = True
        other_clinic.save(update_fields=["require_two_factor"])

        assert client_for(alice_practitioner).get(ME).status_code == 200

    def test_an_operator_is_not_clinic_staff_and_gets_403(self, client_for):
        operator = Staff.objects.create_superuser("operator@jelly.example", TEST_PASSWORD)
        assert operator.organisation_id is None

        body = assert_json_error(client_for(operator).get(ME), 403)
        assert body["detail"] == "Your role does not allow this."


class TestErrorsAreJson:
    def test_an_unknown_api_route_is_a_json_404(self, client_for, alice_practitioner):
        body = assert_json_error(client_for(alice_practitioner).get("/api/v1/no-such-thing/"), 404)
        assert body == {"detail": "Not found."}

    def test_an_unsupported_method_is_a_json_405(self, api_client_for, alice_practitioner):
        response = api_client_for(alice_practitioner).post(ME, data="{not json", content_type="application/json")

        body = assert_json_error(response, 405)
        assert body["detail"] == 'Method "POST" not allowed.'

    @pytest.mark.urls("tests.core.api_echo_urls")
    def test_a_well_formed_json_body_is_parsed(self, api_client_for, alice_practitioner):
        response = api_client_for(alice_practitioner).post(
            "/api/v1/echo/", data=json.dumps({"note": "ok"}), content_type="application/json"
        )

        assert response.status_code == 200
        assert response.json() == {"received": {"note": "ok"}}

    @pytest.mark.urls("tests.core.api_echo_urls")
    @pytest.mark.parametrize("body", ['{"note": ', "{'note': 'single quotes'}", "not json at all"])
    def test_a_malformed_json_body_is_a_json_400_not_a_500(self, api_client_for, alice_practitioner, body):
        response = api_client_for(alice_practitioner).post("/api/v1/echo/", data=body, content_type="application/json")

        assert assert_json_error(response, 400)["detail"].startswith("JSON parse error")

    @pytest.mark.urls("tests.core.api_echo_urls")
    def test_a_body_that_is_not_json_is_a_json_415(self, api_client_for, alice_practitioner):
        response = api_client_for(alice_practitioner).post(
            "/api/v1/echo/", data="note=ok", content_type="application/x-www-form-urlencoded"
        )

        assert_json_error(response, 415)

    @pytest.mark.urls("tests.core.api_echo_urls")
    def test_a_malformed_body_without_credentials_is_still_only_a_401(self, alice_practitioner):
        response = APIClient().post("/api/v1/echo/", data='{"note": ', content_type="application/json")

        assert_json_error(response, 401)


class TestSchema:
    def test_the_schema_is_an_openapi_3_document_describing_me(self, client_for, alice_practitioner):
        response = client_for(alice_practitioner).get("/api/schema/", {"format": "json"})

        assert response.status_code == 200
        schema = json.loads(response.content)
        assert schema["openapi"].startswith("3")
        assert schema["info"]["title"] == "Jelly API"
        assert "get" in schema["paths"][ME]
        assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}
        assert schema["components"]["securitySchemes"]["cookieAuth"]["in"] == "cookie"

    def test_the_docs_page_is_html_loading_scripts_only_from_this_site(self, client_for, alice_practitioner):
        response = client_for(alice_practitioner).get("/api/docs/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "swagger-ui" in html
        assert '<script src="/static/drf_spectacular_sidecar/' in html
        assert "<script>" not in html
        assert "https://" not in html
