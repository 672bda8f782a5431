"""Helpers for migrations that several apps share."""

from django.db import migrations


def drop_foreign_key_index(app_label: str, alter: migrations.AlterField):
    """``alter`` (a foreign key turned ``db_index=False``) in the migration state; in the
    database, only the key's own single-column index dropped.

    Django's AlterField would also drop and re-add the foreign key constraint (validating it
    over the whole table) and drop every index on the column, a partial unique one included.
    """

    def forward(apps, schema_editor):
        model = apps.get_model(app_label, alter.model_name)
        column = model._meta.get_field(alter.name).column
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
        for name, index in found.items():
            if (
                index["index"]
                and index["columns"] == [column]
                and not index["unique"]
                and not index["primary_key"]
                and index["type"] == "idx"
                and " WHERE " not in (index.get("definition") or "")
            ):
                schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def backward(apps, schema_editor):
        model = apps.get_model(app_label, alter.model_name)
        field = model._meta.get_field(alter.name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.SeparateDatabaseAndState(
        state_operations=[alter],
        database_operations=[migrations.RunPython(forward, backward, elidable=False)],
    )
