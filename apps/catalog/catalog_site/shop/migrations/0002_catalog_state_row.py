import secrets

from django.db import migrations


def create_state_row(apps, schema_editor):
    CatalogState = apps.get_model("shop", "CatalogState")
    CatalogState.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"version": 1, "stamp": secrets.token_hex(16)}
    )


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(create_state_row, migrations.RunPython.noop)]
