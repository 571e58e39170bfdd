"""The hot reads one step earlier still: in front of Django's WSGI handler.

``FastReadMiddleware`` already skips sessions, CSRF, auth and URL resolution for the public
reads of ``/``, ``/fruits/``, ``/feedback/`` and ``/images/``. Behind nginx with
``X-Accel-Redirect`` those reads are tiny (an empty body), and what is left is Django's own
per-request machinery: the ``request_started``/``request_finished`` signals, the handler's
exception wrappers, the response conversion. This WSGI wrapper answers the same requests
with the same code (``views.serve_*`` under Django's ``SecurityMiddleware``: the HTTPS
redirect and the security headers), the same bytes and headers, and hands everything else,
and any request it cannot answer cleanly, to Django unchanged:

* a host not in ``ALLOWED_HOSTS``, or any exception (a database error, for one) -> Django
  answers it, from the start (its signals then close a broken database connection as usual);
* the signals are skipped only for these answered reads: they reset the query log (DEBUG
  only) and close database connections that errored or outlived ``CONN_MAX_AGE``, which the
  next request that reaches Django does.

``catalog_site.wsgi.application`` is this wrapper around Django's handler.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.middleware.security import SecurityMiddleware

from catalog_site.shop.middleware import FastReadMiddleware


class FastReadApplication:
    def __init__(self, django_application):
        self.django_application = django_application
        self.routes = FastReadMiddleware.fast_routes()
        self.security = SecurityMiddleware(self._serve)

    @staticmethod
    def _serve(request):
        return request.fast_serve(request)

    def __call__(self, environ, start_response):
        serve = self.routes.get(environ.get("PATH_INFO"))
        if serve is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.django_application(environ, start_response)
        request = WSGIRequest(environ)
        if not FastReadMiddleware.takes(serve, request):
            return self.django_application(environ, start_response)
        try:
            request.get_host()  # ALLOWED_HOSTS
            request.fast_serve = serve
            response = self.security(request)
        except DisallowedHost:
            return self.django_application(environ, start_response)
        except Exception:  # noqa: BLE001 - Django answers it properly (500, logging, connection clean-up)
            return self.django_application(environ, start_response)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]
