"""Index the images stored before the index existed (sites that already hold ``001.jpeg``
files keep working: ``GET /images/`` lists them, and ``replace=false`` protects them)."""

import secrets

from django.db import migrations


def index_existing_images(apps, schema_editor):
    from catalog_site.shop.images import index_files

    StoredImage = apps.get_model("shop", "StoredImage")
    counts = index_files(StoredImage)  # the media storage's images/: MEDIA_ROOT or the S3 bucket
    if counts["added"] or counts["updated"] or counts["removed"]:
        CatalogState = apps.get_model("shop", "CatalogState")
        CatalogState.objects.using(schema_editor.connection.alias).filter(pk=1).update(stamp=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [("shop", "0003_images_and_text_rules")]

    operations = [migrations.RunPython(index_existing_images, migrations.RunPython.noop)]
