"""Test data and small helpers shared by the test modules (import them from here, not from
conftest: conftest.py only holds fixtures)."""

import io
import json

from PIL import Image

WATERMELON = {
    "name": "Watermelon",
    "weight": 500,
    "description": "Watermelon is good for relieving heat, eliminating annoyance and quenching thirst.",
    "image_name": "010.jpeg",
}


def make_image(fmt="PNG", size=(60, 40), color=(200, 40, 40)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)
