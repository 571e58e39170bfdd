"""Products, reviews, the index of stored images, and the one-row catalog state the read
cache is keyed on."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from catalog_site.shop.validators import validate_image_name, validate_multi_line, validate_single_line


class Product(models.Model):
    """A product of the store front; the course calls them fruits."""

    name = models.CharField(
        max_length=200,
        unique=True,
        validators=[validate_single_line],
        error_messages={"unique": "A product with this name already exists."},
    )
    weight = models.PositiveIntegerField(
        help_text="Weight in lbs (an integer).",
        # Explicit bounds: SQLite would otherwise accept values PostgreSQL rejects.
        validators=[MinValueValidator(0), MaxValueValidator(2_147_483_647)],
    )
    description = models.TextField(blank=True, validators=[validate_multi_line])
    image_name = models.CharField(
        max_length=255,
        blank=True,
        validators=[validate_image_name],
        help_text="File name of the image under /media/images/ (upload it to /upload/).",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class Review(models.Model):
    """A customer review (the course's "feedback")."""

    title = models.CharField(max_length=200, validators=[validate_single_line])
    name = models.CharField(max_length=100, validators=[validate_single_line])
    date = models.DateField()
    feedback = models.TextField(validators=[validate_multi_line])

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "date", "title"],
                name="shop_review_unique_name_date_title",
                violation_error_message="A review with this title, name and date already exists.",
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.name}, {self.date})"


class StoredImage(models.Model):
    """An image stored as ``MEDIA_ROOT/images/<name>``, with its size and SHA-256.

    The upload endpoint writes the file and this row in one transaction (the row locked, or
    inserted first, so two uploads of one name never interleave), and deleting an image
    removes both. ``GET /images/`` lists these rows: clients learn which images the site
    holds, and with what content, without downloading them; the list stays right when the
    files move to object storage. Saving or deleting a row bumps the catalog version.
    ``catalog-manage index_images`` rebuilds the rows from the files (migration 0004 did it
    once for the images stored before the index existed).
    """

    name = models.CharField(max_length=255, unique=True, validators=[validate_image_name])
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "image"

    def __str__(self):
        return self.name


class CatalogState(models.Model):
    """One row (pk=1). ``stamp`` changes, in the same transaction, with every write to
    products, reviews or images, so each worker process can check with one indexed read whether
    the responses it keeps in memory are still current (see ``fastpath``)."""

    version = models.BigIntegerField(default=1)
    stamp = models.CharField(max_length=32)
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "catalog state"

    def __str__(self):
        return f"catalog version {self.version}"
