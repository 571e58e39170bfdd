"""Answer the hot public reads before the rest of the middleware stack runs.

``GET /``, ``GET /images/``, and ``GET /fruits/`` and ``GET /feedback/`` by a client that takes
JSON are anonymous, cookie-free reads of bytes kept per catalog version (``fastpath``).
Sessions, CSRF, authentication, messages and URL resolution have nothing to do for them, and
skipping them roughly halves the time Django spends per request. Everything else (writes,
the browsable API, ``?page=``) goes down the normal stack unchanged.

Install it right after ``SecurityMiddleware`` (which still adds its headers: HSTS,
nosniff, referrer policy, and the HTTPS redirect). The views serve the same responses
when this middleware is absent; it is purely a shortcut. ``fastwsgi`` takes the same
decision (``takes``) one step earlier, in front of Django's WSGI handler.
"""

from catalog_site.shop import views


class FastReadMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.routes = self.fast_routes()

    @staticmethod
    def fast_routes():
        return {
            "/": views.serve_storefront,
            "/fruits": views.serve_fruits,
            "/fruits/": views.serve_fruits,
            "/feedback": views.serve_feedback,
            "/feedback/": views.serve_feedback,
            "/images": views.serve_images,
            "/images/": views.serve_images,
        }

    @staticmethod
    def takes(serve, request) -> bool:
        """Whether ``serve`` answers this GET/HEAD (the store front and the image index always;
        the lists only for clients that take JSON without query parameters)."""
        return serve in (views.serve_storefront, views.serve_images) or views.wants_fast_json(request)

    def __call__(self, request):
        serve = self.routes.get(request.path_info)
        if serve is not None and request.method in ("GET", "HEAD") and self.takes(serve, request):
            request.get_host()  # ALLOWED_HOSTS: raises DisallowedHost -> 400, as CommonMiddleware would
            return serve(request)
        return self.get_response(request)
