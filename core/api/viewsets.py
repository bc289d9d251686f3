"""Base API views: tenancy is applied here so no endpoint can forget it."""

from rest_framework import viewsets

from core.choices import ALL_ROLES


class OrganisationScopedMixin:
    """`get_queryset` returns only the caller's organisation's rows (`visible_to`).

    Subclasses set `queryset` (for the model and its select/prefetch) and `allowed_roles`.
    New rows are created in the caller's organisation, never one named in the request.
    """

    allowed_roles = ALL_ROLES

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        serializer.save(organisation=self.request.user.organisation)


class OrganisationScopedViewSet(OrganisationScopedMixin, viewsets.ModelViewSet):
    pass


class OrganisationScopedReadOnlyViewSet(OrganisationScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
