"""File-name rules shared by the upload endpoint and ``Product.image_name``."""

import os
import unicodedata

from django.core.exceptions import ValidationError

MAX_NAME_BYTES = 255

# Extensions accepted for uploads, and the Pillow format each must really contain (the
# extension decides the Content-Type nginx serves, so it has to match the content).
IMAGE_EXTENSIONS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".png": "PNG",
    ".gif": "GIF",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


def image_name_problem(name):
    """Return why ``name`` is not an acceptable plain file name, or None if it is."""
    if not isinstance(name, str) or name == "":
        return "the file name is empty"
    if "/" in name or "\\" in name:
        return "it must be a plain file name, without '/' or '\\' (no directories)"
    if name in {".", ".."} or name.startswith("."):
        return "it must not start with '.' (no '..' and no hidden files)"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return "it contains control or invisible characters"
    if name != name.strip():
        return "it starts or ends with white space"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"it is longer than {MAX_NAME_BYTES} bytes"
    if os.path.basename(name) != name:  # belt and braces
        return "it must be a plain file name"
    return None


def validate_image_name(name):
    """Model/serializer validator: blank is allowed by the field; anything else must be safe."""
    if name == "":
        return
    problem = image_name_problem(name)
    if problem:
        raise ValidationError(f"Invalid image name {name!r}: {problem}.", code="invalid_name")


def expected_format(name):
    """The Pillow format an upload called ``name`` must contain, or None if not an image name."""
    return IMAGE_EXTENSIONS.get(os.path.splitext(name)[1].lower())
