from django.contrib import admin

from works.models import Authorship, ImportRun, Topic, Work, WorkTopic, WorkVersion


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    raw_id_fields = ["author"]
    fields = ["position", "printed_name", "author", "affiliation"]


class VersionInline(admin.TabularInline):
    model = WorkVersion
    extra = 0


class WorkTopicInline(admin.TabularInline):
    model = WorkTopic
    extra = 0
    raw_id_fields = ["topic"]


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ["arxiv_id", "title", "kind", "year", "primary_topic", "version", "author_count"]
    list_filter = ["kind", "withdrawn", "year", "source", "primary_topic"]
    search_fields = ["arxiv_id", "title", "doi", "journal_ref"]
    raw_id_fields = ["primary_topic"]
    readonly_fields = ["content_hash", "imported_at", "changed_at", "source"]
    inlines = [AuthorshipInline, VersionInline, WorkTopicInline]
    list_select_related = ["primary_topic"]
    show_full_result_count = False


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "group"]
    list_filter = ["group"]
    search_fields = ["code", "name"]


@admin.register(Authorship)
class AuthorshipAdmin(admin.ModelAdmin):
    list_display = ["printed_name", "work", "position", "author"]
    search_fields = ["printed_name", "work__arxiv_id", "author__display_name"]
    raw_id_fields = ["work", "author"]
    list_select_related = ["work", "author"]
    show_full_result_count = False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "source",
        "state",
        "created_count",
        "updated_count",
        "unchanged_count",
        "error_count",
        "created_at",
        "finished_at",
    ]
    list_filter = ["source", "state"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
