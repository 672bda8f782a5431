"""arXiv records: works, their versions and topics, and who wrote them.

An author record is a cluster of signatures (authorships) that the evidence says belong to
one person; it lives here, beside the signatures, so that the layers above (graph, profiles)
read it and nothing below needs them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from works.queries import AuthorRecordQuerySet, WorkQuerySet


class Topic(models.Model):
    """An arXiv category with its human name (cs.CL, Computation and Language)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    group = models.CharField(max_length=100, blank=True, help_text="e.g. Computer Science")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    def get_absolute_url(self):
        return topic_url(self.code)


def topic_url(code: str) -> str:
    """The page of the topic with this code, for any code a row may hold.

    Imports accept only arXiv's shape of code (works.taxonomy.is_valid_code), but rows stored
    before that check may hold a slash (the URL takes a path for it) or a line break, which no
    URL pattern matches: such a topic links to a search for its code rather than break the page.
    """
    try:
        return reverse("works:topic", args=[code])
    except NoReverseMatch:
        return f"{reverse('profiles:search')}?{urlencode({'q': code})}"


class Work(models.Model):
    class Kind(models.TextChoices):
        PREPRINT = "preprint", "preprint"
        ARTICLE = "article", "article"
        WITHDRAWN = "withdrawn", "withdrawn"

    arxiv_id = models.CharField(max_length=40, unique=True)
    version = models.PositiveSmallIntegerField(default=1, help_text="Latest version imported")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    comments = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.TextField(blank=True, help_text="External DOIs, space-separated")
    report_no = models.TextField(blank=True)
    license = models.CharField(max_length=300, blank=True)
    primary_topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="primary_works"
    )
    topics = models.ManyToManyField(Topic, through="WorkTopic", related_name="works")
    submitted = models.DateTimeField(null=True, blank=True, help_text="v1 date")
    updated = models.DateTimeField(null=True, blank=True, help_text="Latest version date")
    # The year a visitor sees: that of the latest version (the seed page shows
    # 2022 for a paper first submitted in 2021 and revised in 2022).
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PREPRINT)
    # Newman weighting needs the number of person authors (organisations
    # excluded); kept on the row so edges can be built set-based.
    person_author_count = models.PositiveIntegerField(default=0)
    author_count = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=20, blank=True, help_text="Format of the last import")
    content_hash = models.CharField(
        max_length=32, blank=True, help_text="Detects unchanged re-imports"
    )
    # Set by the snapshot loader: md5 of the snapshot line's digest and the content hash it
    # gave. A re-import skips a line whose digest still matches, unparsed (works.bulk); any
    # other write that changes the content changes content_hash, and the match fails.
    snapshot_digest = models.CharField(
        max_length=32, blank=True, help_text="The snapshot line this content came from"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    objects = WorkQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "title", "id"]
        indexes = [
            models.Index(fields=["-year", "title", "id"], name="work_newest"),
            models.Index(fields=["-updated"], name="work_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(arxiv_id=""), name="work_arxiv_id_not_empty"),
            models.CheckConstraint(condition=Q(version__gte=1), name="work_version_positive"),
            models.CheckConstraint(
                condition=Q(withdrawn=False) | Q(kind="withdrawn"), name="work_withdrawn_kind"
            ),
        ]

    def __str__(self):
        return f"{self.arxiv_id}: {self.title[:80]}"

    def get_absolute_url(self):
        return reverse("works:detail", args=[self.arxiv_id])

    @property
    def doi_list(self) -> list[str]:
        return self.doi.split()

    @property
    def venue(self) -> str:
        return self.journal_ref or "arXiv"

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"


class WorkTopic(models.Model):
    # db_index=False where a composite index leads with the column: the separate index would
    # only cost writes (tests/test_indexes.py keeps it that way).
    work = models.ForeignKey(
        Work, on_delete=models.CASCADE, related_name="work_topics", db_index=False
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="work_topics")
    is_primary = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["work", "topic"], name="worktopic_unique"),
            models.UniqueConstraint(
                fields=["work"], condition=Q(is_primary=True), name="worktopic_one_primary"
            ),
        ]

    def __str__(self):
        return f"{self.work_id} in {self.topic_id}"


class WorkVersion(models.Model):
    work = models.ForeignKey(
        Work, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveSmallIntegerField()
    submitted = models.DateTimeField()
    size_kb = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["work", "number"], name="workversion_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="workversion_number_positive"),
        ]

    def __str__(self):
        return f"{self.work.arxiv_id}v{self.number}"


class AuthorRecord(models.Model):
    """A public author record, built from imported metadata."""

    class Kind(models.TextChoices):
        PERSON = "person", "Researcher"
        ORGANISATION = "organisation", "Organisation"

    class ClaimState(models.TextChoices):
        UNCLAIMED = "unclaimed", "Unclaimed author"
        PENDING = "pending", "Claim pending"
        CLAIMED = "claimed", "Claimed"

    slug = models.SlugField(max_length=120, unique=True)
    display_name = models.CharField(max_length=300)
    name_key = models.CharField(max_length=300, db_index=True)
    search_key = models.CharField(max_length=300, blank=True, help_text="Name tokens, sorted")
    variants = models.JSONField(default=list, blank=True, help_text="Names as printed")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PERSON)
    affiliation = models.TextField(blank=True, help_text="Latest found in the metadata")
    # The owner's own words, shown instead of the imported affiliation. Kept apart from
    # `affiliation` so an import never overwrites it, and so it never counts as evidence for L3
    # (which matches a claim's email domain against the metadata's affiliation only).
    owner_affiliation = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=300, blank=True, help_text="Owner's one line")
    open_to_collaborate = models.BooleanField(default=False)
    # Derived by profiles.levels.derive and changed only through
    # profiles.services.transition_record.
    verification_level = models.PositiveSmallIntegerField(default=1)
    claim_state = models.CharField(
        max_length=10, choices=ClaimState.choices, default=ClaimState.UNCLAIMED
    )
    # Set by re-clustering when the model's confidence inside the record is low
    # (works.clustering._mark_cohesion): the page says so and the level is L0.
    possibly_several_people = models.BooleanField(default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_records"
    )
    work_count = models.PositiveIntegerField(default=0)
    topic_count = models.PositiveIntegerField(default=0)
    follower_count = models.PositiveIntegerField(default=0)
    close_collaborator_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    works_changed_at = models.DateTimeField(null=True, blank=True)

    objects = AuthorRecordQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [
            models.Index(fields=["-works_changed_at"], name="record_recent"),
            models.Index(fields=["search_key"], name="record_search_key"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(verification_level__gte=0, verification_level__lte=3),
                name="record_level_range",
            ),
            models.CheckConstraint(
                condition=Q(kind="person") | Q(claim_state="unclaimed"),
                name="record_organisations_unclaimed",
            ),
            models.CheckConstraint(condition=~Q(slug=""), name="record_slug_not_empty"),
            # An organisation is its name: one live record per key (works.resolution).
            models.UniqueConstraint(
                fields=["name_key"],
                condition=Q(kind="organisation", merged_into__isnull=True),
                name="record_one_live_organisation_per_key",
            ),
        ]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("profiles:detail", args=[self.slug])

    @property
    def is_person(self) -> bool:
        return self.kind == self.Kind.PERSON

    @property
    def level_label(self) -> str:
        return f"L{self.verification_level}"

    @property
    def shown_affiliation(self) -> str:
        return self.owner_affiliation or self.affiliation

    @property
    def shown_description(self) -> str:
        default = "contributes to research discovery and scholarly infrastructure."
        return self.description or f"{self.display_name} {default}"


class SlugRedirect(models.Model):
    """An old slug (after a merge) that still leads to the surviving record."""

    old_slug = models.SlugField(max_length=120, unique=True)
    record = models.ForeignKey(AuthorRecord, on_delete=models.CASCADE, related_name="old_slugs")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.old_slug} → {self.record_id}"


class RecordEvent(models.Model):
    """The public history of a record: what changed, who did it, when."""

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        CLAIM = "claim", "Claim"
        LEVEL = "level", "Verification"
        EDIT = "edit", "Owner edit"
        MERGE = "merge", "Merge"
        CORRECTION = "correction", "Correction"

    record = models.ForeignKey(
        AuthorRecord, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    summary = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["record", "-created_at"], name="event_record_recent")]

    def __str__(self):
        return f"{self.record_id}: {self.summary}"


class Authorship(models.Model):
    """A signature: one author position on one work, as arXiv printed it.

    An author record is a cluster of signatures that the evidence says belong to one person
    (works.clustering). ``author`` is empty for a signature that names no person and no
    organisation ("Plato", a lone surname), and, for a moment, for a new signature not yet
    linked to a record.
    """

    # Served by authorship_position_unique and authorship_author_work.
    work = models.ForeignKey(
        Work, on_delete=models.CASCADE, related_name="authorships", db_index=False
    )
    author = models.ForeignKey(
        AuthorRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorships",
        db_index=False,
    )
    position = models.PositiveIntegerField(help_text="0-based order on the paper")
    printed_name = models.CharField(max_length=500)
    # The printed name's key (works.arxiv.names.name_key): a new version of the work finds
    # this signature again by (work, key, occurrence), so its id, its record and the
    # corrections made to it survive the update.
    name_key = models.CharField(max_length=300, blank=True)
    # Surname + first initial, whatever the name order ("zhang z"): the people who may be this
    # one are in the same block, and only there (works.identity.names.block_key). Empty for a
    # signature that is not a person.
    block_key = models.CharField(max_length=120, blank=True)
    # The printed name as a co-author (works.identity.names.coauthor_name: "m mohania|mukesh"),
    # "" when it is not a person, worked out when the row is written: linking reads every
    # author of each member's paper, and parsing a 1,000-author team again in every linking
    # process was most of a first load's identity time. NULL for a row written before it was
    # kept: it is parsed when read.
    coauthor_name = models.TextField(null=True, blank=True)
    affiliation = models.TextField(blank=True)

    class Meta:
        ordering = ["work", "position"]
        constraints = [
            models.UniqueConstraint(fields=["work", "position"], name="authorship_position_unique"),
        ]
        indexes = [
            models.Index(fields=["author", "work"], name="authorship_author_work"),
            models.Index(fields=["block_key", "author"], name="signature_block"),
        ]

    def __str__(self):
        return f"{self.printed_name} on {self.work_id}"


class IdentityConstraint(models.Model):
    """A correction by a person, kept forever: every later import and re-clustering obeys it.

    Must-link: this signature belongs to this record (an admin merge or move, an owner's
    confirmation, a work on the owner's authenticated ORCID record). Cannot-link: this
    signature never belongs to this record ("not mine", an admin split).
    """

    class Kind(models.TextChoices):
        MUST_LINK = "must", "belongs to"
        CANNOT_LINK = "cannot", "never belongs to"

    class Source(models.TextChoices):
        MERGE = "merge", "admin merge"
        MOVE = "move", "admin move"
        SPLIT = "split", "admin split"
        NOT_MINE = "not-mine", "owner: not mine"
        CONFIRMED = "confirmed", "owner confirmation"
        ORCID = "orcid", "authenticated ORCID record"

    signature = models.ForeignKey(
        Authorship, on_delete=models.CASCADE, related_name="identity_constraints", db_index=False
    )
    record = models.ForeignKey(
        AuthorRecord, on_delete=models.CASCADE, related_name="identity_constraints", db_index=False
    )
    kind = models.CharField(max_length=6, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["signature", "record", "kind"], name="identity_constraint_unique"
            ),
        ]
        indexes = [models.Index(fields=["record", "kind"], name="identity_constraint_record")]

    def __str__(self):
        return f"{self.signature_id} {self.get_kind_display()} {self.record_id}"


class ImportRun(models.Model):
    """One import or harvest: what was asked, how far it got, what it changed."""

    class Source(models.TextChoices):
        FILE = "file", "file"
        API_QUERY = "api-query", "API query"
        API_IDS = "api-ids", "API id list"
        OAI = "oai", "OAI-PMH"

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    source = models.CharField(max_length=20, choices=Source.choices)
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    total_expected = models.PositiveIntegerField(null=True, blank=True)
    # Checkpoint: where to resume after a crash (OAI token or API offset).
    resumption_token = models.TextField(blank=True)
    checkpoint_offset = models.PositiveIntegerField(default=0)
    checkpoint_datestamp = models.DateField(null=True, blank=True)
    response_date = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_source_display()} run #{self.pk} ({self.state})"

    @property
    def processed(self) -> int:
        return self.created_count + self.updated_count + self.unchanged_count + self.error_count

    @property
    def is_active(self) -> bool:
        return self.state in {self.State.QUEUED, self.State.RUNNING}


class DeferredSchemaObject(models.Model):
    """An index, foreign key or statistics object a first load dropped (works.first_load),
    with its definition as the catalogue gave it, until the load puts it back.

    A row left here means a first load was interrupted: the next bulk load carries it on and
    restores exactly these objects, so the schema ends as the migrations made it.
    """

    class Kind(models.TextChoices):
        INDEX = "index", "index"
        CONSTRAINT = "constraint", "constraint"
        STATISTICS = "statistics", "statistics object"

    table = models.CharField(max_length=63)
    name = models.CharField(max_length=63, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    definition = models.TextField()
    dropped_at = models.DateTimeField(auto_now_add=True)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.kind} {self.name} on {self.table}"
