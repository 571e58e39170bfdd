"""URLs for the benchmark: the site's own, plus the naive implementations.

* ``/naive/fruits/``: DRF ``ListAPIView`` + ``ModelSerializer(many=True)``, the textbook way.
* ``/naive/``: the store front template rendered from querysets on every request.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import path
from rest_framework import generics, serializers

from catalog_site.shop.models import Product, Review
from catalog_site.urls import urlpatterns as site_urlpatterns


class NaiveProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "weight", "description", "image_name"]


class NaiveProductList(generics.ListAPIView):
    queryset = Product.objects.order_by("id")
    serializer_class = NaiveProductSerializer
    pagination_class = None


def naive_storefront(request):
    return render(
        request,
        "shop/storefront.html",
        {
            "site_title": settings.CATALOG_SITE_TITLE,
            "products": Product.objects.order_by("id"),
            "reviews": Review.objects.order_by("-date", "-id"),
            "images_url": f"{settings.MEDIA_URL}images/",
        },
    )


urlpatterns = [
    path("naive/fruits/", NaiveProductList.as_view()),
    path("naive/", naive_storefront),
    *site_urlpatterns,
]
