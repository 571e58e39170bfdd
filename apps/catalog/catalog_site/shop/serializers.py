from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import get_error_detail
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator

from catalog_site.shop.models import Product, Review
from catalog_site.shop.validators import validate_multi_line, validate_single_line

MAX_TEXT = 20_000  # characters of a description or a review


class TextField(serializers.CharField):
    """A ``CharField`` that refuses control characters in the value *as sent*, then strips
    leading and trailing white space: ``"Apple\\x1f"`` is refused, not silently made
    ``"Apple"`` (``str.strip()`` counts U+001C-U+001F and U+0085 as white space)."""

    def __init__(self, multi_line=False, **kwargs):
        self.control_check = validate_multi_line if multi_line else validate_single_line
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                self.control_check(data)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(get_error_detail(exc)) from None
        return super().to_internal_value(data)


class ProductSerializer(serializers.ModelSerializer):
    """``{id, name, weight, description, image_name}``; the course's clients send the last four."""

    name = TextField(
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
    description = TextField(multi_line=True, allow_blank=True, max_length=MAX_TEXT)

    class Meta:
        model = Product
        fields = ["id", "name", "weight", "description", "image_name"]
        # image_name is taken as sent: " 001.jpeg" is refused, not quietly made another name.
        extra_kwargs = {"image_name": {"required": True, "allow_blank": True, "trim_whitespace": False}}


class ReviewSerializer(serializers.ModelSerializer):
    """``{id, title, name, date (YYYY-MM-DD), feedback}``."""

    title = TextField(max_length=200)
    name = TextField(max_length=100)
    date = serializers.DateField(
        input_formats=["%Y-%m-%d"],
        format="%Y-%m-%d",
        error_messages={"invalid": "Date has wrong format. Use YYYY-MM-DD."},
    )
    feedback = TextField(multi_line=True, max_length=MAX_TEXT)

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
