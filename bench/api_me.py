"""GET /api/v1/me/ with token auth against a bare Django view that returns the same JSON.

Both go through the whole middleware stack via the test client, and the bare view does the
same one-query token lookup, so the ratio is what DRF, its authentication class and the
serializer add on top of plain Django.
"""

import sys
import types

from _common import percentile, report, setup_django, throwaway_database, time_calls

N = 300
BARE_URLCONF = "bench_api_me_urls"


def bare_me(request):
    from django.http import JsonResponse

    from core.models import ApiToken
    from core.services import api_token_digest

    key = request.headers.get("Authorization", "").removeprefix("Token ")
    token = ApiToken.objects.select_related("staff__organisation").get(
        key_digest=api_token_digest(key), revoked_at__isnull=True
    )
    staff = token.staff
    return JsonResponse(
        {
            "id": str(staff.id),
            "email": staff.email,
            "given_name": staff.given_name,
            "family_name": staff.family_name,
            "role": staff.role,
            "organisation": {
                "id": str(staff.organisation.id),
                "name": staff.organisation.name,
                "slug": staff.organisation.slug,
            },
        }
    )


def install_bare_urlconf() -> None:
    """The project's URLs plus /bench/bare-me/, as a module ROOT_URLCONF can name."""
    from django.urls import path

    from jelly import urls

    module = types.ModuleType(BARE_URLCONF)
    module.urlpatterns = [path("bench/bare-me/", bare_me), *urls.urlpatterns]
    sys.modules[BARE_URLCONF] = module


def main() -> None:
    setup_django()
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from core.choices import Role
    from core.services import api_token_create, organisation_create, staff_create

    install_bare_urlconf()
    with throwaway_database("api_me"), override_settings(ROOT_URLCONF=BARE_URLCONF):
        organisation = organisation_create(name="Bench Clinic", slug="bench", require_two_factor=False)
        staff = staff_create(
            organisation=organisation,
            email="bench@clinic.test",
            role=Role.PRACTITIONER,
            password="Bench-password-2026!",
            given_name="Bea",
            family_name="Bench",
        )
        _, key = api_token_create(staff=staff)
        client = Client(headers={"authorization": f"Token {key}"})

        api_response = client.get("/api/v1/me/")
        bare_response = client.get("/bench/bare-me/")
        if api_response.status_code != 200 or api_response.json() != bare_response.json():
            raise SystemExit(f"The two views disagree: {api_response.content!r} vs {bare_response.content!r}")

        api_ms = time_calls(lambda: client.get("/api/v1/me/"), n=N)
        bare_ms = time_calls(lambda: client.get("/bench/bare-me/"), n=N)
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/me/")

    api_p50, bare_p50 = percentile(api_ms, 50), percentile(bare_ms, 50)
    report("api_me_p50_ms", api_p50)
    report("api_me_p95_ms", percentile(api_ms, 95))
    report("bare_p50_ms", bare_p50)
    report("bare_p95_ms", percentile(bare_ms, 95))
    report("api_me_vs_bare_ratio", api_p50 / bare_p50)
    report("api_me_queries", len(queries))


if __name__ == "__main__":
    main()
