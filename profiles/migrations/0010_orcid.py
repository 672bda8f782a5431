# ORCID evidence (issue 14): authenticated iDs on claims, their checks and drift, instant approvals, the owners' nightly refresh, and works offered from other records.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0009_claim_one_approved_per_orcid'),
        ('works', '0005_signature_name_key'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OrcidOffer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('orcid', models.CharField(max_length=19)),
                ('state', models.CharField(choices=[('open', 'offered'), ('accepted', 'moved here'), ('declined', 'declined'), ('conflict', 'on a record another account has claimed')], default='open', max_length=10)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='accountsettings',
            name='orcid_refresh',
            field=models.BooleanField(default=False, verbose_name='Check my ORCID record every night for works that sit on other records'),
        ),
        migrations.AddField(
            model_name='claim',
            name='auto_approved',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='claim',
            name='orcid_authenticated',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='claim',
            name='orcid_check',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='claim',
            name='orcid_drift',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='claim',
            name='orcid_drift_seen_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='claim',
            name='orcid_matched',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('auto_approved', False), ('orcid_authenticated', True), _connector='OR'), name='claim_auto_approved_by_authenticated_orcid'),
        ),
        migrations.AddConstraint(
            model_name='claim',
            constraint=models.CheckConstraint(condition=models.Q(('orcid_authenticated', False), models.Q(('orcid', ''), _negated=True), _connector='OR'), name='claim_authenticated_orcid_not_empty'),
        ),
        migrations.AddField(
            model_name='orcidoffer',
            name='authorship',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='works.authorship'),
        ),
        migrations.AddField(
            model_name='orcidoffer',
            name='record',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='works.authorrecord'),
        ),
        migrations.AddField(
            model_name='orcidoffer',
            name='source',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='works.authorrecord'),
        ),
        migrations.AddField(
            model_name='orcidoffer',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='orcid_offers', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='orcidoffer',
            name='work',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='works.work'),
        ),
        migrations.AddConstraint(
            model_name='orcidoffer',
            constraint=models.UniqueConstraint(fields=('user', 'work'), name='orcid_offer_once_per_work'),
        ),
    ]
