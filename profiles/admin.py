import json

from allauth.socialaccount.admin import SocialAccountAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from profiles import claims as claim_services
from profiles import corrections
from profiles.forms import AuthorRecordAdminForm, DecisionForm
from profiles.levels import email_domain_matches, orcid_is_valid
from profiles.models import Claim, OrcidOffer, TrustSnapshot
from profiles.verification import affiliation_domains
from works.models import AuthorRecord, Authorship, IdentityConstraint, RecordEvent, SlugRedirect


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
    form = AuthorRecordAdminForm
    list_display = [
        "display_name",
        "slug",
        "kind",
        "verification_level",
        "claim_state",
        "work_count",
    ]
    list_filter = ["kind", "verification_level", "claim_state", "open_to_collaborate"]
    search_fields = ["display_name", "name_key", "slug"]
    readonly_fields = [
        "name_key",
        "search_key",
        "work_count",
        "topic_count",
        "created_at",
        "updated_at",
    ]
    # Level and claim state change only through profiles.verification.transition, which logs
    # who, when and why; an admin form must not bypass it.
    readonly_fields += ["verification_level", "claim_state"]
    raw_id_fields = ["merged_into"]
    show_full_result_count = False


@admin.register(TrustSnapshot)
class TrustSnapshotAdmin(admin.ModelAdmin):
    list_display = [
        "record",
        "score",
        "band",
        "level",
        "claim_state",
        "formula_version",
        "computed_at",
    ]
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


# --- ORCID connections (allauth) ------------------------------------------------------------
# The ORCID app comes from the environment only (profiles.orcid.signin), and no token is kept:
# their admin pages would only mislead. A connection is what makes an iD "authenticated", so
# admins read it but never type one: an iD attached by hand would be vouched for by nobody.
admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)
admin.site.unregister(SocialAccount)


@admin.register(SocialAccount)
class ReadOnlySocialAccountAdmin(SocialAccountAdmin):
    readonly_fields = ["user", "provider", "uid", "extra_data", "date_joined", "last_login"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Claims, merges, moves and undo (accounts work) -----------------------------------------
# Decisions go through the services (profiles.claims, profiles.corrections), never through an
# admin form's save: each one is a conditional transition that logs who, when and why. Every
# bulk action asks for a reason on an intermediate page before it does anything.


def _intermediate(
    request, *, title, form, queryset, action, template="admin/profiles/intermediate.html", **extra
):
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": title,
            "form": form,
            "objects": list(queryset),
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": queryset.model._meta,
            **extra,
        },
    )


class ClaimStateFilter(admin.SimpleListFilter):
    """Pending claims first: that is the admins' queue. "All" shows every state."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [*Claim.State.choices, ("all", "All")]

    def choices(self, changelist):
        current = self.value() or Claim.State.PENDING
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or Claim.State.PENDING
        return queryset if value == "all" else queryset.filter(state=value)


def _decide_claims(modeladmin, request, queryset, *, verb, decide, title):
    if not queryset.exists():
        state = "approved" if verb == "revoked" else "pending"
        modeladmin.message_user(
            request, f"None of the selected claims is {state}.", level=messages.WARNING
        )
        return None
    form = DecisionForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done, failed = 0, []
        for claim in queryset.select_related("record", "user"):
            try:
                decide(claim, by=request.user, **_decision_kwargs(verb, form))
                done += 1
            except claim_services.ClaimError as error:
                failed.append(f"{claim.record} ({claim.email}): {error}")
        if done:
            modeladmin.message_user(request, f"{done} claim(s) {verb}; the claimants are emailed.")
        for failure in failed:
            modeladmin.message_user(request, failure, level=messages.ERROR)
        return None
    if verb != "approved":
        form.fields.pop("orcid_confirmed")
    return _intermediate(
        request, title=title, form=form, queryset=queryset, action=request.POST["action"]
    )


def _decision_kwargs(verb: str, form: DecisionForm) -> dict:
    kwargs = {"reason": form.cleaned_data["reason"]}
    if verb == "approved":
        kwargs["orcid_confirmed"] = form.cleaned_data.get("orcid_confirmed", False)
    return kwargs


class OrcidFilter(admin.SimpleListFilter):
    """Claims by what their ORCID iD showed: the drift flag is the refresh's word to admins."""

    title = "ORCID"
    parameter_name = "orcid"

    def lookups(self, request, model_admin):
        return [
            ("authenticated", "Authenticated iD"),
            ("auto", "Approved at once"),
            ("drift", "No longer lists works"),
            ("failed", "Check could not read ORCID"),
        ]

    def queryset(self, request, queryset):
        return {
            "authenticated": lambda: queryset.filter(orcid_authenticated=True),
            "auto": lambda: queryset.filter(auto_approved=True),
            "drift": lambda: queryset.exclude(orcid_drift=[]),
            "failed": lambda: queryset.filter(orcid_check__has_key="error"),
        }.get(self.value(), lambda: queryset)()


def _when(iso: str | None) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "?"


def _how_listed(work: dict) -> str:
    if not work.get("via"):
        return ""
    who = work.get("asserted_by") or "the holder themselves (not proof)"
    return f" (by {work['via']}, listed by {who})"


def _works_list(works: list[dict], *, with_record: bool = False):
    if not works:
        return "none"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>arXiv:{} {}{}</li>",
            (
                (
                    work.get("arxiv_id", ""),
                    work.get("title", ""),
                    format_html(
                        " — on {} ({})", work.get("record_name", ""), work.get("record_slug", "")
                    )
                    if with_record
                    else _how_listed(work),
                )
                for work in works
            ),
        ),
    )


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = [
        "record",
        "email",
        "email_verified",
        "orcid",
        "orcid_summary",
        "strong_evidence",
        "state",
        "created_at",
        "decided_by",
    ]
    list_filter = [ClaimStateFilter, OrcidFilter]
    list_select_related = ["record", "user", "decided_by"]
    search_fields = ["record__display_name", "record__slug", "email", "orcid"]
    ordering = ["created_at"]
    actions = ["approve", "reject", "revoke"]
    fields = [
        "record_link",
        "state",
        "email",
        "email_verified",
        "affiliation_evidence",
        "orcid",
        "orcid_id_check",
        "orcid_confirmed",
        "orcid_comparison",
        "orcid_drift_display",
        "evidence_links",
        "statement",
        "other_claims",
        "created_at",
        "decided_by",
        "decided_at",
        "reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Record")
    def record_link(self, obj):
        return format_html(
            '<a href="{}">{}</a> (<a href="{}">admin</a>) · level L{} · {} work(s)',
            obj.record.get_absolute_url(),
            obj.record.display_name,
            reverse("admin:works_authorrecord_change", args=[obj.record_id]),
            obj.record.verification_level,
            obj.record.work_count,
        )

    @admin.display(description="Strong email", boolean=True)
    def strong_evidence(self, obj):
        return obj.email_verified and email_domain_matches(
            obj.email.rpartition("@")[2], affiliation_domains(obj.record.affiliation)
        )

    @admin.display(description="Affiliation in the metadata")
    def affiliation_evidence(self, obj):
        domains = affiliation_domains(obj.record.affiliation)
        strong = self.strong_evidence(obj)
        return format_html(
            "{}<br>Domains found: {}. Email domain {} {}.",
            obj.record.affiliation or "(none imported)",
            ", ".join(domains) or "none",
            obj.email.rpartition("@")[2],
            "matches: approval gives L3" if strong else "does not match: approval gives L2",
        )

    @admin.display(description="ORCID evidence")
    def orcid_summary(self, obj):
        if not obj.orcid_authenticated:
            return "typed" if obj.orcid else "—"
        parts = ["authenticated"]
        check = obj.orcid_check or {}
        if "error" in check:
            parts.append("check failed")
        elif check:
            parts.append(
                f"{check.get('matched_count', 0)}/{check.get('record_work_count', 0)} works match"
                f" ({check.get('confirmed_count', 0)} by a third party)"
            )
        if obj.auto_approved:
            parts.append("approved at once")
        if obj.orcid_drift:
            parts.append(f"NO LONGER LISTS {len(obj.orcid_drift)}")
        return " · ".join(parts)

    @admin.display(description="What the ORCID record shows")
    def orcid_comparison(self, obj):
        """The comparison of the iD's public works and names with the record (its latest check):
        what matches, what is missing, what conflicts."""
        if not obj.orcid_authenticated:
            return "The iD was typed, not authenticated by signing in with ORCID: not checked."
        check = obj.orcid_check or {}
        if not check:
            return "Not checked yet (the check runs right after the claim is sent)."
        if "error" in check:
            return format_html(
                "ORCID could not be read ({}): {}", _when(check.get("checked_at")), check["error"]
            )
        refused = (
            format_html("<p><strong>The approval was refused:</strong> {}</p>", check["refused"])
            if check.get("refused")
            else ""
        )
        return format_html(
            "<p><strong>{}</strong></p>{}"
            "<p>Checked {}. Name on ORCID: {} · record: {} · {}.</p>"
            "<p><strong>Matching</strong> ({} of the record's {} works, {} of them listed by a "
            "publisher or registry; the ORCID record lists {} works, {} of them not on BZPEER):"
            "</p>{}"
            "<p><strong>Missing</strong> (on the record, not on ORCID: {}):</p>{}"
            "<p><strong>Conflicting</strong> (on records other accounts have claimed):</p>{}"
            "<p><strong>On other, unclaimed records</strong> (offered to the owner once "
            "approved; {} more are ambiguous, {} more listed by the holder only):</p>{}",
            check.get("reason", ""),
            refused,
            _when(check.get("checked_at")),
            check.get("orcid_name") or "not public",
            check.get("record_name", ""),
            "compatible" if check.get("name_compatible") else "NOT compatible",
            check.get("matched_count", 0),
            check.get("record_work_count", 0),
            check.get("confirmed_count", 0),
            check.get("orcid_work_count", 0),
            check.get("not_found", 0),
            _works_list(check.get("matched", [])),
            check.get("missing_count", 0),
            _works_list(check.get("missing", [])),
            _works_list(check.get("conflicting", []), with_record=True),
            check.get("ambiguous", 0),
            check.get("self_asserted_elsewhere", 0),
            _works_list(check.get("elsewhere", []), with_record=True),
        )

    @admin.display(description="ORCID drift")
    def orcid_drift_display(self, obj):
        if not obj.orcid_drift:
            return "None: the iD still lists the works that justified the claim."
        return format_html(
            "<strong>Since {}, the iD no longer lists {} of the works that justified this claim"
            "</strong>: {}. Nothing was changed: revoke the claim if it was wrong.",
            obj.orcid_drift_seen_at.date() if obj.orcid_drift_seen_at else "?",
            len(obj.orcid_drift),
            ", ".join(f"arXiv:{arxiv_id}" for arxiv_id in obj.orcid_drift),
        )

    @admin.display(description="ORCID iD check")
    def orcid_id_check(self, obj):
        if not obj.orcid:
            return "No ORCID iD given."
        if obj.orcid_authenticated:
            listed = len(obj.orcid_matched or ())
            return format_html(
                '<a href="https://orcid.org/{}" rel="noopener noreferrer" target="_blank">{}</a>: '
                "authenticated, the claimant signed in to ORCID with it. {}",
                obj.orcid,
                obj.orcid,
                f"A publisher or registry listed {listed} of the record's works on it: approval "
                "gives L3."
                if listed
                else "No publisher or registry listed any of the record's works on it: approval "
                "gives L2 unless you confirm the iD.",
            )
        return format_html(
            '{} · <a href="https://orcid.org/{}" rel="noopener noreferrer" target="_blank">'
            "open the ORCID record</a> and check that it is this person before confirming it",
            "checksum valid" if orcid_is_valid(obj.orcid) else "CHECKSUM INVALID",
            obj.orcid,
        )

    @admin.display(description="Links given as evidence")
    def evidence_links(self, obj):
        if not obj.links:
            return "None."
        # The claimant typed these: escaped, and never followed with our referrer.
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a></li>',
                (
                    (link, link)
                    for link in obj.links
                    if str(link).startswith(("http://", "https://"))
                ),
            ),
        )

    @admin.display(description="Other claims on this record")
    def other_claims(self, obj):
        others = Claim.objects.filter(record=obj.record).exclude(pk=obj.pk).order_by("-created_at")
        return (
            format_html_join(
                "",
                "<div>{} · {} · {}</div>",
                ((c.email, c.state, c.created_at.date()) for c in others),
            )
            or "None."
        )

    @admin.action(description="Approve selected claims…", permissions=["change"])
    def approve(self, request, queryset):
        return _decide_claims(
            self,
            request,
            queryset.filter(state=Claim.State.PENDING),
            verb="approved",
            decide=claim_services.approve_claim,
            title="Approve claims",
        )

    @admin.action(description="Reject selected claims…", permissions=["change"])
    def reject(self, request, queryset):
        return _decide_claims(
            self,
            request,
            queryset.filter(state=Claim.State.PENDING),
            verb="rejected",
            decide=claim_services.reject_claim,
            title="Reject claims",
        )

    @admin.action(description="Revoke selected approved claims…", permissions=["change"])
    def revoke(self, request, queryset):
        return _decide_claims(
            self,
            request,
            queryset.filter(state=Claim.State.APPROVED),
            verb="revoked",
            decide=claim_services.revoke_claim,
            title="Revoke claims",
        )


@admin.register(OrcidOffer)
class OrcidOfferAdmin(admin.ModelAdmin):
    """Works on owners' ORCID records that sit on other records. Conflicts (on a record another
    account has claimed) are for admins: an owner never moves them; an admin who agrees moves
    the work with "Move works from the selected record" on the record that holds it."""

    list_display = ["work", "record", "user", "source", "orcid", "state", "created_at"]
    list_filter = ["state"]
    list_select_related = ["work", "record", "user", "source"]
    search_fields = ["work__arxiv_id", "record__slug", "orcid", "user__email"]
    readonly_fields = [
        "work",
        "record",
        "user",
        "source",
        "authorship",
        "orcid",
        "state",
        "created_at",
        "decided_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MergeForm(forms.Form):
    survivor = forms.ModelChoiceField(
        queryset=AuthorRecord.objects.none(),
        widget=forms.RadioSelect,
        help_text="The record that stays; the others are merged into it and their addresses "
        "redirect.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=300)

    def __init__(self, *args, records, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survivor"].queryset = records


@admin.action(description="Merge selected records (one person)…", permissions=["change"])
def merge_records(modeladmin, request, queryset):
    records = queryset.people().live()
    if records.count() < 2:
        modeladmin.message_user(
            request, "Select at least two live researcher records to merge.", level=messages.ERROR
        )
        return None
    form = MergeForm(request.POST if "apply" in request.POST else None, records=records)
    if form.is_valid():
        survivor = form.cleaned_data["survivor"]
        merged = 0
        for source in records.exclude(pk=survivor.pk):
            try:
                corrections.merge_records(
                    source=source,
                    target=survivor,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
                merged += 1
            except corrections.CorrectionError as error:
                modeladmin.message_user(request, f"{source.slug}: {error}", level=messages.ERROR)
        if merged:
            modeladmin.message_user(request, f"{merged} record(s) merged into {survivor.slug}.")
        return None
    return _intermediate(
        request, title="Merge records", form=form, queryset=records, action="merge_records"
    )


class MoveWorksForm(forms.Form):
    authorships = forms.ModelMultipleChoiceField(
        queryset=Authorship.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Works to move",
    )
    target = forms.SlugField(label="Move them to the record with this slug")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=300)

    def __init__(self, *args, record, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["authorships"]
        field.queryset = (
            Authorship.objects.filter(author=record)
            .select_related("work")
            .order_by("-work__year", "work_id")
        )
        field.label_from_instance = lambda a: (
            f"{a.work.arxiv_id} · {a.work.title[:140]} (as “{a.printed_name}”)"
        )

    def clean_target(self):
        slug = self.cleaned_data["target"]
        target = AuthorRecord.objects.people().live().filter(slug=slug).first()
        if target is None:
            raise forms.ValidationError("No live researcher record has this slug.")
        return target


@admin.action(description="Move works from the selected record…", permissions=["change"])
def move_works(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(
            request, "Select exactly one record to move works from.", level=messages.ERROR
        )
        return None
    record = queryset.get()
    form = MoveWorksForm(request.POST if "apply" in request.POST else None, record=record)
    if form.is_valid():
        try:
            moved = corrections.move_authorships(
                authorship_ids=[a.pk for a in form.cleaned_data["authorships"]],
                target=form.cleaned_data["target"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except corrections.CorrectionError as error:
            modeladmin.message_user(request, str(error), level=messages.ERROR)
        else:
            modeladmin.message_user(
                request, f"{moved} work(s) moved to {form.cleaned_data['target'].slug}."
            )
        return None
    return _intermediate(
        request,
        title=f"Move works from {record}",
        form=form,
        queryset=queryset,
        action="move_works",
    )


class SplitForm(forms.Form):
    authorships = forms.ModelMultipleChoiceField(
        queryset=Authorship.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Works of another person",
        help_text="They go to a new record and never come back to this one; the rest stay.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=300)

    def __init__(self, *args, record, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["authorships"]
        field.queryset = (
            Authorship.objects.filter(author=record)
            .select_related("work")
            .order_by("-work__year", "work_id")
        )
        field.label_from_instance = _signature_label


def _signature_label(authorship: Authorship) -> str:
    return (
        f"{authorship.work.arxiv_id} ({authorship.work.year}) · {authorship.work.title[:120]} "
        f"(as “{authorship.printed_name}”)"
    )


@admin.action(
    description="Split the selected record: another person's works…", permissions=["change"]
)
def split_record(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(
            request, "Select exactly one record to split.", level=messages.ERROR
        )
        return None
    record = queryset.get()
    form = SplitForm(request.POST if "apply" in request.POST else None, record=record)
    if form.is_valid():
        try:
            new = corrections.split_record(
                record=record,
                authorship_ids=[a.pk for a in form.cleaned_data["authorships"]],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except corrections.CorrectionError as error:
            modeladmin.message_user(request, str(error), level=messages.ERROR)
        else:
            modeladmin.message_user(request, f"Split off to a new record: {new.slug}.")
        return None
    return _intermediate(
        request, title=f"Split {record}", form=form, queryset=queryset, action="split_record"
    )


class IdentityConstraintInline(admin.TabularInline):
    """People's corrections that hold this record's signatures on it or off it."""

    model = IdentityConstraint
    fk_name = "record"
    extra = 0
    can_delete = False
    readonly_fields = ["signature", "kind", "source", "actor", "created_at"]
    fields = readonly_fields
    raw_id_fields = ["signature"]

    def has_add_permission(self, request, obj=None):
        return False


AuthorRecordAdmin.actions = [
    *(AuthorRecordAdmin.actions or []),
    merge_records,
    move_works,
    split_record,
]
AuthorRecordAdmin.inlines = [*AuthorRecordAdmin.inlines, IdentityConstraintInline]


class UndoForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=300)


@admin.register(RecordEvent)
class RecordEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "record", "kind", "summary", "actor", "undoable"]
    list_filter = ["kind"]
    list_select_related = ["record", "actor"]
    search_fields = ["record__slug", "record__display_name", "summary"]
    readonly_fields = ["record", "kind", "summary", "actor", "data", "created_at"]
    actions = ["undo"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="Undoable")
    def undoable(self, obj):
        return corrections.can_undo(obj)

    @admin.action(description="Undo selected corrections or merges…", permissions=["change"])
    def undo(self, request, queryset):
        events = [e for e in queryset.select_related("record") if corrections.can_undo(e)]
        if not events:
            self.message_user(request, "None of these can be undone.", level=messages.ERROR)
            return None
        form = UndoForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            undone = 0
            for event in events:
                event.refresh_from_db()
                try:
                    corrections.undo(event, by=request.user, reason=form.cleaned_data["reason"])
                    undone += 1
                except corrections.CorrectionError as error:
                    self.message_user(request, f"{event}: {error}", level=messages.ERROR)
            if undone:
                self.message_user(request, f"{undone} change(s) undone.")
            return None
        return _intermediate(
            request,
            title="Undo corrections",
            form=form,
            queryset=queryset.filter(pk__in=[e.pk for e in events]),
            action="undo",
        )
