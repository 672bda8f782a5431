from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from works import runs
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


# --- Import runs: the list, "Start a harvest" and a progress page per run -------------------


class StartHarvestForm(forms.Form):
    """What to harvest: an author, a free query, a list of ids, or an OAI-PMH date range."""

    KINDS = [
        ("author", "Works of an author (arXiv API)"),
        ("query", "A free query (arXiv API)"),
        ("ids", "A list of arXiv ids (arXiv API)"),
        ("oai", "Everything changed in a date range (OAI-PMH)"),
    ]
    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, initial="author")
    author = forms.CharField(
        required=False, max_length=200, label="Author name", help_text='Searched as au:"Name".'
    )
    query = forms.CharField(
        required=False,
        max_length=runs.MAX_QUERY_LENGTH,
        help_text="arXiv search syntax, e.g. cat:cs.CL AND ti:transformer.",
    )
    max_results = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=30000,
        initial=runs.DEFAULT_MAX_RESULTS,
        help_text="For an author or a query: stop after this many results.",
    )
    ids = forms.CharField(
        required=False,
        label="arXiv ids",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=f"Separated by spaces, commas or new lines; at most {runs.MAX_IDS}.",
    )
    from_date = forms.DateField(
        required=False,
        label="From",
        help_text="YYYY-MM-DD. Empty: from the last successful harvest.",
    )
    until_date = forms.DateField(required=False, label="Until", help_text="YYYY-MM-DD. Optional.")
    set_spec = forms.CharField(
        required=False,
        max_length=100,
        label="Set",
        help_text="e.g. cs, math or physics:hep-th. Empty: all of arXiv.",
    )
    metadata_prefix = forms.ChoiceField(
        required=False,
        choices=[(prefix, prefix) for prefix in runs.OAI_PREFIXES],
        initial=runs.OAI_PREFIXES[0],
        label="Metadata format",
        help_text="arXivRaw includes every version's date; arXiv splits author names.",
    )

    # Which field an error belongs to, per kind (OAI errors concern the whole range).
    _ERROR_FIELD = {"author": "author", "query": "query", "ids": "ids", "oai": None}

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind not in self._ERROR_FIELD:
            return data
        try:
            if kind == "author":
                query = runs.author_query(data.get("author") or "")
                self.source = ImportRun.Source.API_QUERY
                raw = {"query": query, "max_results": data.get("max_results")}
            elif kind == "query":
                self.source = ImportRun.Source.API_QUERY
                raw = {"query": data.get("query"), "max_results": data.get("max_results")}
            elif kind == "ids":
                self.source = ImportRun.Source.API_IDS
                raw = {"ids": data.get("ids") or ""}
            else:
                self.source = ImportRun.Source.OAI
                raw = {
                    "from": data.get("from_date"),
                    "until": data.get("until_date"),
                    "set": data.get("set_spec"),
                    "metadata_prefix": data.get("metadata_prefix"),
                }
            self.parameters = runs.clean_parameters(self.source, raw)
        except runs.InvalidRunParameters as error:
            self.add_error(self._ERROR_FIELD[kind], str(error))
        return data


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Runs are started from "Start a harvest" and watched on their progress page.

    The change form is replaced by the progress page: a run is a log, not
    something to edit by hand.
    """

    list_display = [
        "id",
        "source",
        "short_parameters",
        "state",
        "created_count",
        "updated_count",
        "unchanged_count",
        "error_count",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_display_links = ["id", "short_parameters"]
    list_filter = ["source", "state"]
    list_select_related = ["requested_by"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
    show_full_result_count = False

    @admin.display(description="parameters")
    def short_parameters(self, run: ImportRun) -> str:
        p = run.parameters or {}
        if run.source == ImportRun.Source.OAI:
            text = f"from {p.get('from') or '…'}"
            if p.get("until"):
                text += f" until {p['until']}"
            if p.get("set"):
                text += f", set {p['set']}"
        elif run.source == ImportRun.Source.API_IDS:
            ids = p.get("ids") or []
            text = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        else:
            text = p.get("query") or "—"
        return text[:80]

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name=f"{prefix}_start"),
            path("<int:run_id>/progress/", wrap(self.progress_view), name=f"{prefix}_progress"),
            path(
                "<int:run_id>/cancel/",
                wrap(require_POST(self.cancel_view)),
                name=f"{prefix}_cancel",
            ),
            path(
                "<int:run_id>/resume/",
                wrap(require_POST(self.resume_view)),
                name=f"{prefix}_resume",
            ),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:works_importrun_{name}", args=args)

    def _run_for(self, request, run_id: int, *, change: bool) -> ImportRun:
        allowed = (
            self.has_change_permission(request) if change else self.has_view_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        return get_object_or_404(ImportRun.objects.select_related("requested_by"), pk=run_id)

    # "Add import run" and a run's change form lead to the two pages that make sense.
    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(self._url("start"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            run_id = int(object_id)
        except ValueError:
            raise Http404 from None
        return HttpResponseRedirect(self._url("progress", run_id))

    def start_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = StartHarvestForm(request.POST)
            if form.is_valid():
                run = runs.start_run(
                    source=form.source,
                    parameters=form.parameters,
                    requested_by=request.user,
                    queue=True,
                )
                messages.success(request, f"Harvest run #{run.pk} started.")
                return HttpResponseRedirect(self._url("progress", run.pk))
        else:
            form = StartHarvestForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Start a harvest",
            "form": form,
            "api_fields": [form[name] for name in ("author", "query", "max_results", "ids")],
            "oai_fields": [
                form[name] for name in ("from_date", "until_date", "set_spec", "metadata_prefix")
            ],
            "last_harvest_date": runs.last_harvest_date(),
        }
        return TemplateResponse(request, "works/run_start.html", context)

    def progress_view(self, request, run_id: int):
        run = self._run_for(request, run_id, change=False)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import run #{run.pk}",
            "run": run,
            "parameter_rows": [
                (name, ", ".join(value) if isinstance(value, list) else value)
                for name, value in run.parameters.items()
            ],
            "stale": runs.is_stale(run),
            "can_change": self.has_change_permission(request, run),
            "progress_url": self._url("progress", run.pk),
            "cancel_url": self._url("cancel", run.pk),
            "resume_url": self._url("resume", run.pk),
        }
        template = "works/run_progress.html"
        if request.htmx:
            template += "#run-counts"
        return TemplateResponse(request, template, context)

    def cancel_view(self, request, run_id: int):
        run = self._run_for(request, run_id, change=True)
        if runs.cancel_run(run, by=request.user):
            messages.success(request, f"Run #{run.pk} cancelled.")
        else:
            messages.warning(request, f"Run #{run.pk} had already finished.")
        return HttpResponseRedirect(self._url("progress", run.pk))

    def resume_view(self, request, run_id: int):
        run = self._run_for(request, run_id, change=True)
        if runs.resume_run(run, by=request.user):
            messages.success(
                request, f"Run #{run.pk} queued again; it continues from its checkpoint."
            )
        else:
            messages.warning(request, f"Run #{run.pk} cannot be resumed ({run.state}).")
        return HttpResponseRedirect(self._url("progress", run.pk))
