"""The authorisation matrix: every URL pattern, for anonymous, each role, a foreign organisation.

It enumerates the URL configuration, so a route added by any app is covered the moment it
exists. Each route's expected outcome comes from what its view declares (`public`,
`allowed_roles`, or being an admin page); a route that declares nothing fails here.

For every route it asserts:
- anonymous: login redirect (pages, admin) or 401 (API);
- a role the view does not allow: 403 (pages, API) or the admin login redirect (admin);
- an allowed role: no server error, never another organisation's data (FOREIGN-CANARY);
- staff of a foreign organisation on our objects: 403/404 (or admin's "does not exist"
  redirect), never our object's data (OWN-CANARY).
"""

import importlib
import json
import pkgutil
import re
from dataclasses import dataclass, field

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests
from core.access import allowed_roles_for
from core.choices import ALL_ROLES, Role
from tests.factories import OrganisationFactory, StaffFactory
from tests.matrix_registry import MATRIX_OBJECTS

OWN_CANARY = "OWN-CANARY"
FOREIGN_CANARY = "FOREIGN-CANARY"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

for module in pkgutil.walk_packages(tests.__path__, "tests."):
    if module.name.endswith(".factories"):
        importlib.import_module(module.name)


@dataclass
class Route:
    name: str
    kwarg_names: tuple[str, ...]
    callback: object
    namespace: str
    pattern: str
    methods: tuple[str, ...] = field(default=())

    @property
    def is_admin(self) -> bool:
        return self.namespace == "admin"

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def __str__(self) -> str:
        return self.name


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner_namespace = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner_namespace)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def _methods(callback) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(method.upper() for method in actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return ("GET", "POST")
    return tuple(
        m.upper() for m in view_class.http_method_names if m not in {"options", "head"} and hasattr(view_class, m)
    )


def collect_routes() -> list[Route]:
    routes = {}
    for pattern, namespace, entry in _walk(get_resolver().url_patterns):
        kwarg_names = tuple(entry.pattern.regex.groupindex)
        if "format" in kwarg_names:
            continue  # DRF's `.json` suffix twins of routes already covered
        if entry.name:
            full_name = f"{namespace}:{entry.name}" if namespace else entry.name
        else:
            assert namespace == "admin", f"Every route outside admin needs a name: {pattern}"
            full_name = f"{namespace}:<unnamed>/{pattern}"
        if full_name in routes or full_name == "admin:login":
            continue  # shadowed by jelly.urls' admin-login redirect, covered as its own route
        routes[full_name] = Route(full_name, kwarg_names, entry.callback, namespace, pattern, _methods(entry.callback))
    return list(routes.values())


ROUTES = collect_routes()


def admin_model_alias(route: Route) -> str | None:
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None:
        return model_admin.model._meta.model_name
    # admin:<app>_<model>_<action>, or the unnamed admin/<app>/<model>/<object_id>/ redirect
    match = re.match(r"admin/(\w+)/(\w+)/", route.pattern)
    return match.group(2) if match else None


def view_model_alias(route: Route) -> str | None:
    view_class = route.view_class
    queryset = getattr(view_class, "queryset", None)
    model = getattr(view_class, "model", None) or (queryset.model if queryset is not None else None)
    return model._meta.model_name if model is not None else None


def alias_for(route: Route, kwarg: str) -> str:
    if kwarg in {"pk", "object_id", "id"}:
        alias = admin_model_alias(route) if route.is_admin else view_model_alias(route)
        assert alias, f"{route}: cannot tell which model `{kwarg}` names; set queryset/model on the view"
        return alias
    for suffix in ("_pk", "_id"):
        if kwarg.endswith(suffix):
            return kwarg[: -len(suffix)]
    return kwarg


@dataclass
class World:
    own: dict
    foreign: dict
    actors: dict

    def kwargs_for(self, route: Route, side: str) -> dict:
        objects = self.own if side == "own" else self.foreign
        kwargs = {}
        for name in route.kwarg_names:
            if name == "app_label":
                kwargs[name] = "core"
            elif name == "url":
                kwargs[name] = "no-such-admin-page/"  # admin's catch-all
            elif name == "content_type_id":
                kwargs[name] = ContentType.objects.get_by_natural_key("core", "location").pk
            else:
                alias = "location" if route.name == "admin:view_on_site" else alias_for(route, name)
                assert alias in MATRIX_OBJECTS, (
                    f"{route}: no matrix object registered for `{alias}` (kwarg `{name}`); "
                    "register one in tests/<app>/factories.py"
                )
                kwargs[name] = str(objects[alias].pk)
        return kwargs


@pytest.fixture
def world(db):
    own_org = OrganisationFactory(name="Matrix Clinic", slug="matrix-own", require_two_factor=False)
    foreign_org = OrganisationFactory(
        name=f"Elsewhere {FOREIGN_CANARY}", slug="matrix-foreign", require_two_factor=False
    )
    actors = {role: StaffFactory(organisation=own_org, role=role, email=f"{role}@own.test") for role in ALL_ROLES}
    actors["foreign_admin"] = StaffFactory(organisation=foreign_org, role=Role.ADMIN, email="admin@foreign.test")
    actors["foreign_practitioner"] = StaffFactory(
        organisation=foreign_org, role=Role.PRACTITIONER, email="practitioner@foreign.test"
    )
    own = {"organisation": own_org, "canary": OWN_CANARY}
    foreign = {"organisation": foreign_org, "canary": FOREIGN_CANARY}
    # Every registered kind of object exists on both sides, so list pages have something to leak.
    for alias, build in MATRIX_OBJECTS.items():
        if alias not in own:
            own[alias] = build(own_org, OWN_CANARY)
            foreign[alias] = build(foreign_org, FOREIGN_CANARY)
    return World(own=own, foreign=foreign, actors=actors)


def url_for(route: Route, kwargs: dict) -> str:
    if "<unnamed>" not in route.name:
        return reverse(route.name, kwargs=kwargs)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: kwargs[match.group(1)], route.pattern)


def request(client: Client, route: Route, method: str, kwargs: dict):
    url = url_for(route, kwargs)
    if route.is_api:
        return client.generic(method, url, data=json.dumps({}), content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, data="", content_type="application/x-www-form-urlencoded")


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def body(response) -> str:
    return response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""


def is_login_redirect(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and ("/accounts/login/" in location or "/admin/login/" in location)


def test_every_route_declares_who_may_use_it():
    undeclared = []
    for route in ROUTES:
        if route.is_admin or getattr(route.callback, "public", False) or route.view_class is None:
            continue
        view_class = route.view_class
        if getattr(view_class, "public", False) or getattr(view_class, "signed_in_any_state", False):
            continue
        if "allowed_roles" not in {name for klass in view_class.__mro__ for name in vars(klass)}:
            undeclared.append(route.name)
    function_views = [
        r.name for r in ROUTES if r.view_class is None and not r.is_admin and not getattr(r.callback, "public", False)
    ]
    assert not undeclared, f"Routes whose views declare no allowed_roles: {undeclared}"
    assert not function_views, (
        f"Function views must be marked public or become StaffRequiredMixin views: {function_views}"
    )


def test_the_matrix_sees_the_routes_of_every_app():
    names = {route.name for route in ROUTES}
    assert {"home", "healthz", "login", "api-me", "admin:index", "admin:core_staff_change"} <= names


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_route_authorisation(route: Route, world: World):
    own_kwargs = world.kwargs_for(route, "own")
    public = getattr(route.callback, "public", False) or getattr(route.view_class, "public", False)

    # Anonymous.
    for method in route.methods:
        response = request(Client(), route, method, own_kwargs)
        assert response.status_code < 500, f"{method} {route}: {response.status_code} for anonymous"
        assert OWN_CANARY not in body(response), f"{method} {route} shows data to anonymous"
        if public:
            continue
        if route.is_api:
            assert response.status_code in (401, 405), f"{method} {route}: anonymous got {response.status_code}"
        elif route.is_admin:
            assert response.status_code == 302, f"{route}: anonymous got {response.status_code}, not sent away"
        else:
            assert is_login_redirect(response) or response.status_code == 405, (
                f"{method} {route}: anonymous got {response.status_code}, not the login page"
            )
    if public:
        return

    signed_in_any_state = getattr(route.view_class, "signed_in_any_state", False)
    for role in ALL_ROLES:
        client = signed_in(world.actors[role])
        for method in route.methods:
            if route.is_admin:
                if method != "GET":
                    continue
                response = client.get(url_for(route, own_kwargs))
                if role != Role.ADMIN:
                    assert response.status_code == 302, f"{route}: {role} reached admin ({response.status_code})"
                    assert OWN_CANARY not in body(response)
                    continue
            else:
                allowed = signed_in_any_state or role in allowed_roles_for(route.view_class, method)
                if method in WRITE_METHODS and allowed:
                    continue  # writes by allowed roles are each app's own tests; here only refusals
                response = request(client, route, method, own_kwargs)
                if not allowed:
                    assert response.status_code == 403, f"{method} {route}: {role} got {response.status_code}, not 403"
                    assert OWN_CANARY not in body(response)
                    continue
                assert response.status_code not in (401,), f"{method} {route}: {role} was not recognised"
            assert response.status_code < 500, f"{method} {route}: {role} got {response.status_code}"
            assert FOREIGN_CANARY not in body(response), f"{method} {route}: {role} saw another organisation's data"

    # Staff of another organisation, on our objects (or our lists): nothing of ours, ever.
    for actor in ("foreign_admin", "foreign_practitioner"):
        client = signed_in(world.actors[actor])
        for method in route.methods:
            if route.is_admin and method != "GET":
                continue
            response = request(client, route, method, own_kwargs)
            assert response.status_code < 500, f"{method} {route}: {actor} got {response.status_code}"
            assert OWN_CANARY not in body(response), f"{method} {route}: {actor} saw our organisation's data"
            if route.kwarg_names and not route.is_admin and not signed_in_any_state:
                assert response.status_code in (403, 404, 405), (
                    f"{method} {route}: {actor} got {response.status_code} on another organisation's object"
                )
            if route.is_admin and route.kwarg_names and actor == "foreign_admin" and "object_id" in route.kwarg_names:
                assert response.status_code in (302, 403, 404), f"{route}: foreign admin got {response.status_code}"


def test_the_canary_check_can_fail(world: World):
    """Our own admin does see our canary on a list page, so its absence elsewhere means something."""
    response = signed_in(world.actors[Role.ADMIN]).get(reverse("admin:core_location_changelist"))
    assert response.status_code == 200
    assert OWN_CANARY in body(response)
    assert FOREIGN_CANARY not in body(response)
