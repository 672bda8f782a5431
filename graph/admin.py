from django.contrib import admin

from graph.models import CollaborationEdge


@admin.register(CollaborationEdge)
class CollaborationEdgeAdmin(admin.ModelAdmin):
    list_display = ["author", "coauthor", "weight", "shared_works", "latest_year"]
    search_fields = ["author__display_name", "coauthor__display_name"]
    raw_id_fields = ["author", "coauthor"]
    list_select_related = ["author", "coauthor"]
    show_full_result_count = False
