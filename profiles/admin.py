import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from profiles.models import AuthorRecord, RecordEvent, SlugRedirect, TrustSnapshot


class RecordEventInline(admin.TabularInline):
    model = RecordEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "summary", "actor"]
    fields = readonly_fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AuthorRecord)
class AuthorRecordAdmin(admin.ModelAdmin):
    list_display = ["display_name", "slug", "kind", "verification_level", "claim_state", "work_count"]
    list_filter = ["kind", "verification_level", "claim_state", "open_to_collaborate"]
    search_fields = ["display_name", "name_key", "slug"]
    readonly_fields = ["name_key", "search_key", "work_count", "topic_count", "created_at", "updated_at"]
    # Level and claim state change only through profiles.verification.transition, which logs
    # who, when and why; an admin form must not bypass it.
    readonly_fields += ["verification_level", "claim_state"]
    raw_id_fields = ["merged_into"]
    show_full_result_count = False


@admin.register(TrustSnapshot)
class TrustSnapshotAdmin(admin.ModelAdmin):
    list_display = ["record", "score", "band", "level", "claim_state", "formula_version", "computed_at"]
    list_filter = ["band", "level", "formula_version"]
    search_fields = ["record__display_name", "record__slug"]
    list_select_related = ["record"]

    # Components as a readable table and inputs as indented JSON; the raw JSON fields are left
    # out of the form because admins read them, never edit them.
    fields = [
        "record",
        "score",
        "band",
        "level",
        "claim_state",
        "formula_version",
        "computed_at",
        "fingerprint",
        "components_breakdown",
        "inputs_pretty",
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="Components")
    def components_breakdown(self, obj):
        # format_html escapes every value: titles of imported works are untrusted text.
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    c.get("label", c.get("key", "")),
                    c.get("points", ""),
                    c.get("cap", ""),
                    c.get("explanation", ""),
                    format_html_join(
                        "",
                        "<li>{} ({}{})</li>",
                        (
                            (row["what"], row["source"], f", {row['date']}" if row["date"] else "")
                            for row in c.get("evidence", [])
                        ),
                    ),
                    c.get("how_to_raise", ""),
                )
                for c in obj.components
            ),
        )
        return format_html(
            "<table><thead><tr><th>Component</th><th>Points</th><th>Why</th><th>Evidence</th>"
            "<th>What would raise it</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Inputs")
    def inputs_pretty(self, obj):
        return format_html(
            "<pre style='white-space:pre-wrap'>{}</pre>",
            json.dumps(obj.inputs, indent=2, ensure_ascii=False),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(SlugRedirect)
