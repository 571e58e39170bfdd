"""Every write to products, reviews or the image index bumps the catalog state in the same transaction.

Covers the API, the admin, ``Model.save()``/``delete()`` and ``QuerySet.delete()``
anywhere. ``QuerySet.update()``, ``bulk_create()`` and raw SQL send no signals: call
``catalog_site.shop.fastpath.bump_catalog_version()`` after those (or run
``manage.py bump_catalog_version``).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog_site.shop.fastpath import bump_catalog_version
from catalog_site.shop.models import Product, Review, StoredImage


@receiver(post_save, sender=Product, dispatch_uid="shop_product_saved")
@receiver(post_delete, sender=Product, dispatch_uid="shop_product_deleted")
@receiver(post_save, sender=Review, dispatch_uid="shop_review_saved")
@receiver(post_delete, sender=Review, dispatch_uid="shop_review_deleted")
@receiver(post_save, sender=StoredImage, dispatch_uid="shop_image_saved")
@receiver(post_delete, sender=StoredImage, dispatch_uid="shop_image_deleted")
def catalog_changed(sender, using, **kwargs):
    bump_catalog_version(using=using)
