"""Author records, their old slugs and their history move from profiles to works.

They are the clusters of signatures (authorships), and the layers above (graph, profiles) read
them: works is the bottom layer. State only; 0004 renames the tables.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0005_trust_snapshot_lz4'),
        ('works', '0002_search_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables stay where they are: only Django's picture of them moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='AuthorRecord',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('slug', models.SlugField(max_length=120, unique=True)),
                    ('display_name', models.CharField(max_length=300)),
                    ('name_key', models.CharField(db_index=True, max_length=300)),
                    ('search_key', models.CharField(blank=True, help_text='Name tokens, sorted', max_length=300)),
                    ('variants', models.JSONField(blank=True, default=list, help_text='Names as printed')),
                    ('kind', models.CharField(choices=[('person', 'Researcher'), ('organisation', 'Organisation')], default='person', max_length=12)),
                    ('affiliation', models.TextField(blank=True, help_text='Latest found in the metadata')),
                    ('owner_affiliation', models.CharField(blank=True, max_length=300)),
                    ('description', models.CharField(blank=True, help_text="Owner's one line", max_length=300)),
                    ('open_to_collaborate', models.BooleanField(default=False)),
                    ('verification_level', models.PositiveSmallIntegerField(default=1)),
                    ('claim_state', models.CharField(choices=[('unclaimed', 'Unclaimed author'), ('pending', 'Claim pending'), ('claimed', 'Claimed')], default='unclaimed', max_length=10)),
                    ('possibly_several_people', models.BooleanField(default=False)),
                    ('resolvable', models.BooleanField(default=True)),
                    ('work_count', models.PositiveIntegerField(default=0)),
                    ('topic_count', models.PositiveIntegerField(default=0)),
                    ('follower_count', models.PositiveIntegerField(default=0)),
                    ('close_collaborator_count', models.PositiveIntegerField(default=0)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('works_changed_at', models.DateTimeField(blank=True, null=True)),
                    ('merged_into', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='merged_records', to='works.authorrecord')),
                ],
                options={
                    'db_table': 'profiles_authorrecord',
                    'ordering': ['display_name', 'id'],
                },
            ),
            migrations.AlterField(
                model_name='authorship',
                name='author',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='authorships', to='works.authorrecord'),
            ),
            migrations.CreateModel(
                name='RecordEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('import', 'Import'), ('claim', 'Claim'), ('level', 'Verification'), ('edit', 'Owner edit'), ('merge', 'Merge'), ('correction', 'Correction')], max_length=12)),
                    ('summary', models.CharField(max_length=500)),
                    ('data', models.JSONField(blank=True, default=dict)),
                    ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                    ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('record', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='works.authorrecord')),
                ],
                options={
                    'db_table': 'profiles_recordevent',
                    'ordering': ['-created_at', '-id'],
                },
            ),
            migrations.CreateModel(
                name='SlugRedirect',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('old_slug', models.SlugField(max_length=120, unique=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('record', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='old_slugs', to='works.authorrecord')),
                ],
                options={
                    'db_table': 'profiles_slugredirect',
                },
            ),
            migrations.AddIndex(
                model_name='authorrecord',
                index=models.Index(fields=['-works_changed_at'], name='record_recent'),
            ),
            migrations.AddIndex(
                model_name='authorrecord',
                index=models.Index(fields=['search_key'], name='record_search_key'),
            ),
            migrations.AddConstraint(
                model_name='authorrecord',
                constraint=models.CheckConstraint(condition=models.Q(('verification_level__gte', 0), ('verification_level__lte', 3)), name='record_level_range'),
            ),
            migrations.AddConstraint(
                model_name='authorrecord',
                constraint=models.CheckConstraint(condition=models.Q(('kind', 'person'), ('claim_state', 'unclaimed'), _connector='OR'), name='record_organisations_unclaimed'),
            ),
            migrations.AddConstraint(
                model_name='authorrecord',
                constraint=models.CheckConstraint(condition=models.Q(('slug', ''), _negated=True), name='record_slug_not_empty'),
            ),
            migrations.AddIndex(
                model_name='recordevent',
                index=models.Index(fields=['record', '-created_at'], name='event_record_recent'),
            ),
                ],
        ),
    ]
