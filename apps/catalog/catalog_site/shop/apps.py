from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "catalog_site.shop"
    label = "shop"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from catalog_site.shop import signals  # noqa: F401  (connects the version bump)
