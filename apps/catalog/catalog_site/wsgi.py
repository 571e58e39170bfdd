"""WSGI entry point: ``gunicorn catalog_site.wsgi:application``.

Django's handler, behind ``FastReadApplication``, which answers the hot public reads itself
(same code, same bytes and headers) and passes every other request to Django unchanged."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalog_site.settings")

django_application = get_wsgi_application()

from catalog_site.shop.fastwsgi import FastReadApplication  # noqa: E402  (needs the apps loaded)

application = FastReadApplication(django_application)
