from django.contrib import admin

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
    raw_id_fields = ["merged_into"]
    show_full_result_count = False


@admin.register(TrustSnapshot)
class TrustSnapshotAdmin(admin.ModelAdmin):
    list_display = ["record", "score", "band", "level", "claim_state", "formula_version", "computed_at"]
    list_filter = ["band", "level", "formula_version"]
    search_fields = ["record__display_name", "record__slug"]
    list_select_related = ["record"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TrustSnapshot._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(SlugRedirect)
