import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from catalog_site.shop import fastpath
from tests.helpers import make_image


@pytest.fixture(autouse=True)
def _fresh_process_cache():
    """Each test starts like a freshly started worker (no kept responses)."""
    fastpath.clear_cache()
    yield
    fastpath.clear_cache()


@pytest.fixture
def token(db):
    user = get_user_model().objects.create_user("uploader")
    return Token.objects.create(user=user).key


@pytest.fixture
def auth(token):
    """Extra kwargs for django.test.Client requests: the token header."""
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def png_bytes():
    return make_image("PNG")


@pytest.fixture
def jpeg_bytes():
    return make_image("JPEG")
