"""URLs. The course's scripts use both ``/fruits`` and ``/fruits/`` (and the same for
feedback and upload), so every API path answers with and without the trailing slash
(a redirect would turn their POST into a GET)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from catalog_site.shop import views

urlpatterns = [
    path("", views.storefront, name="storefront"),
    re_path(r"^fruits/?$", views.fruits, name="fruits"),
    re_path(r"^fruits/(?P<pk>[0-9]+)/?$", views.fruit_detail, name="fruit-detail"),
    re_path(r"^feedback/?$", views.feedback, name="feedback"),
    re_path(r"^feedback/(?P<pk>[0-9]+)/?$", views.feedback_detail, name="feedback-detail"),
    re_path(r"^upload/?$", views.upload, name="upload"),
    re_path(r"^images/?$", views.image_list, name="images"),
    # Any name reaches the view, which refuses unsafe ones ("..", "a/b") with a clear 400.
    re_path(r"^images/(?P<name>.+?)/?$", views.image_detail, name="image-detail"),
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
]


def media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT, show_indexes=True)


if settings.CATALOG_SERVE_FILES:
    # Development, tests, or a host without nginx. In production nginx serves these.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
    if settings.DEBUG:
        from django.contrib.staticfiles.urls import staticfiles_urlpatterns

        urlpatterns += staticfiles_urlpatterns()
    else:
        urlpatterns += [re_path(r"^static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT})]
