from rest_framework import serializers
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from catalog_site.shop.models import Product, Review

MAX_TEXT = 20_000  # characters of a description or a review


class ProductSerializer(serializers.ModelSerializer):
    """``{id, name, weight, description, image_name}``; the course's clients send the last four."""

    name = serializers.CharField(
        max_length=200,
        validators=[UniqueValidator(Product.objects.all(), message="A product with this name already exists.")],
    )
    weight = serializers.IntegerField(
        min_value=0,
        max_value=2_147_483_647,
        help_text="An integer number of lbs: 500, not \"500 lbs\".",
        error_messages={
            "invalid": 'A valid integer is required (a number of lbs such as 500, not "500 lbs").',
            "min_value": "The weight must not be negative.",
        },
    )
    description = serializers.CharField(allow_blank=True, max_length=MAX_TEXT, trim_whitespace=True)

    class Meta:
        model = Product
        fields = ["id", "name", "weight", "description", "image_name"]
        extra_kwargs = {"image_name": {"required": True, "allow_blank": True}}


class ReviewSerializer(serializers.ModelSerializer):
    """``{id, title, name, date (YYYY-MM-DD), feedback}``."""

    date = serializers.DateField(
        input_formats=["%Y-%m-%d"],
        format="%Y-%m-%d",
        error_messages={"invalid": "Date has wrong format. Use YYYY-MM-DD."},
    )
    feedback = serializers.CharField(max_length=MAX_TEXT)

    class Meta:
        model = Review
        fields = ["id", "title", "name", "date", "feedback"]
        validators = [
            UniqueTogetherValidator(
                queryset=Review.objects.all(),
                fields=["name", "date", "title"],
                message="A review with this title, name and date already exists.",
            )
        ]
