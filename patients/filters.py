"""One filter for the patient list page and the patients API."""

import django_filters

from patients.models import Patient
from patients.selectors import apply_patient_search


class PatientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    archived = django_filters.BooleanFilter()

    class Meta:
        model = Patient
        fields = ["q", "archived"]

    def search(self, queryset, name, value):
        return apply_patient_search(queryset, value)
