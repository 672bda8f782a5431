"""Corrections become identity constraints; ``resolvable`` (the name-key rule's escape hatch)
goes. Past corrections found in the records' history are kept as constraints, so that the
first re-clustering obeys them too."""

from django.db import migrations


def corrections_to_constraints(apps, schema_editor):
    RecordEvent = apps.get_model("works", "RecordEvent")
    Authorship = apps.get_model("works", "Authorship")
    IdentityConstraint = apps.get_model("works", "IdentityConstraint")
    db = schema_editor.connection.alias
    rules = {"not_mine": ("cannot", "not-mine", "from_record"), "move": ("must", "move", "to_record"),
             "merge": ("must", "merge", "to_record")}
    seen = set()
    for event in RecordEvent.objects.using(db).filter(kind__in=["correction", "merge"]):
        data = event.data or {}
        rule = rules.get(data.get("action"))
        if rule is None or data.get("undone"):
            continue
        kind, source, record_key = rule
        existing = set(
            Authorship.objects.using(db)
            .filter(pk__in=data.get("authorships", []))
            .values_list("pk", flat=True)
        )
        for signature_id in existing:
            key = (signature_id, data[record_key], kind)
            if key in seen:
                continue
            seen.add(key)
            IdentityConstraint.objects.using(db).get_or_create(
                signature_id=signature_id,
                record_id=data[record_key],
                kind=kind,
                defaults={"source": source, "actor_id": event.actor_id},
            )


class Migration(migrations.Migration):
    dependencies = [("works", "0006_signatures_and_identity_constraints")]

    operations = [
        migrations.RunPython(corrections_to_constraints, migrations.RunPython.noop),
        migrations.RemoveField(model_name="authorrecord", name="resolvable"),
    ]
