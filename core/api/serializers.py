from rest_framework import serializers

from core.models import Location, Staff


class OrganisationSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class MeSerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer()

    class Meta:
        model = Staff
        fields = ["id", "email", "given_name", "family_name", "role", "organisation"]
        read_only_fields = fields


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "address", "postcode", "phone", "is_active"]
