"""Rebuild the image index (``GET /images/``) from the stored images (``MEDIA_ROOT/images/``, or ``images/`` in the S3 bucket).

    catalog-manage index_images             # add, update and remove rows to match the files
    catalog-manage index_images --dry-run   # only say what it would change

Uploads keep the index right by themselves; run this after files were copied in, changed or
removed by hand (or restored from a backup). Prints one JSON line:
{"added", "updated", "removed", "unchanged", "skipped": [{"name", "reason"}], "changed"}.
"""

import json

from django.core.management.base import BaseCommand
from django.db import transaction

from catalog_site.shop.fastpath import bump_catalog_version
from catalog_site.shop.images import index_files
from catalog_site.shop.models import StoredImage


class Command(BaseCommand):
    help = (
        "Make the image index (GET /images/) match the stored images (MEDIA_ROOT/images/ or the S3 bucket; idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = index_files(StoredImage, dry_run=options["dry_run"])
            changed = any(counts[key] for key in ("added", "updated", "removed"))
            if changed and not options["dry_run"]:
                bump_catalog_version()
        counts["changed"] = changed and not options["dry_run"]
        self.stdout.write(json.dumps(counts))
