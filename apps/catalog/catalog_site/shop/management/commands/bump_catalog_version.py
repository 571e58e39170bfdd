from django.core.management.base import BaseCommand
from django.db import transaction

from catalog_site.shop.fastpath import bump_catalog_version
from catalog_site.shop.models import CatalogState


class Command(BaseCommand):
    help = (
        "Mark the catalog as changed so every worker rebuilds its cached responses. Only "
        "needed after writes that bypass the models (raw SQL, bulk_create, QuerySet.update)."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            bump_catalog_version()
        self.stdout.write(f"catalog version {CatalogState.objects.get(pk=1).version}")
