"""Input rules shared by the models, the serializers and the upload endpoint: file names
(uploads and ``Product.image_name``) and control characters in text.

The README's "Validation limits" table documents every rule here, so that a client (the
``catalog_upload`` module) can check an item before its first write."""

import os
import unicodedata

from django.core.exceptions import ValidationError

MAX_NAME_BYTES = 255

# Text may not hold control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F):
# they are invisible on the store front, break the course's line-based files and terminals,
# and make two names that look the same differ. Multi-line text (a description, a review)
# may hold TAB and LF; nothing else, not even CR (the course's files are read with universal
# newlines, so a CR never reaches the site from them).
MULTI_LINE_ALLOWED = "\t\n"

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


def control_character_problem(value, allowed=""):
    """Describe the first control character in ``value`` that is not in ``allowed``, or None."""
    for index, char in enumerate(value):
        if unicodedata.category(char) == "Cc" and char not in allowed:
            return f"U+{ord(char):04X} at character {index + 1}"
    return None


def validate_single_line(value):
    """Names and titles: no control character at all (no TAB, no newline)."""
    problem = control_character_problem(str(value))
    if problem:
        raise ValidationError(f"Control characters are not allowed (found {problem}).", code="control_characters")


def validate_multi_line(value):
    """Descriptions and reviews: TAB and LF allowed, every other control character refused."""
    problem = control_character_problem(str(value), MULTI_LINE_ALLOWED)
    if problem:
        raise ValidationError(
            f"Control characters other than TAB and newline (LF) are not allowed (found {problem}).",
            code="control_characters",
        )
