"""Author identity: which signatures (author positions on works) are one person.

Pure Python (numpy, scipy), no Django: the importer and the
management commands call this API with plain :class:`Signature` objects and
store what it returns.

Names and blocks
    ``parse_name(printed) -> NameParts | None``
        surname, given names, initials; None for organisations, "et al.",
        single tokens and names with a bracketed affiliation.
    ``block_key(printed) -> str | None``
        surname + first initial ("zhang z"); every printing of one person
        ("Zhang Zhengyan", "Z. Zhang", "Zhèngyan Zhang") gets the same key.
        Cluster each block on its own; blocks are never joined.
    ``name_compatibility(a, b) -> int``
        NAME_CONFLICT (never one person) .. NAME_FULL_EQUAL.

Signatures
    ``Signature(signature_id, paper_id, author, position, coauthors, title,
    abstract, year, venue, categories, affiliations)``; ``Signature.from_record``
    reads the labelled JSON-lines format.

Clustering a block
    ``cluster_block(signatures, *, must_link=(), cannot_link=(), model=None,
    name_count=None) -> list[list[signature_id]]``
        the people of one block. ``must_link``/``cannot_link`` are pairs of
        signature ids (owner confirmations and admin merges; "not mine" and
        admin splits) and are always obeyed; contradicting ones raise
        :class:`ConstraintConflict`. Two signatures on one paper, or with
        incompatible names, are never merged unless a must-link says so.
        ``name_count`` is how many signatures the block holds in the whole
        corpus (default: those given); a rare name printed identically is
        evidence, a common one is not (``features.name_commonness``).

Daily linking
    ``link(new_signatures, existing_clusters, *, must_link=(), cannot_link=(),
    model=None) -> LinkResult``
        ``existing_clusters`` maps cluster id -> signatures; returns
        ``assignments`` (new signature id -> existing cluster id) and
        ``new_clusters`` (groups of new signatures that are new people).
        Nothing existing is re-clustered.

Possibly several people
    ``cohesion(signatures, *, model=None) -> Cohesion``
        re-clusters one cluster with a stricter merge threshold;
        ``possibly_several_people`` is True when it falls into two or more
        parts of at least 2 signatures and 20 % of the cluster each.

Quality
    ``metrics.b_cubed(predicted, truth)``, ``metrics.pairwise(...)``,
    ``metrics.name_key_baseline(authors)``.

The model (``pairwise_model.json`` beside this file) is trained by
``bench/train_identity.py`` and evaluated by ``bench/identity_cv.py``; see
``bench/README.md`` ("Identity") for the figures and how the pipeline works
(two stages of constrained average linkage; exact decomposition of big blocks).
"""

from works.identity.cluster import ConstraintConflict, cluster_block
from works.identity.incremental import Cohesion, LinkResult, cohesion, link
from works.identity.model import IdentityModel, default_model
from works.identity.names import (
    NAME_CONFLICT,
    NAME_FIRST_EQUAL,
    NAME_FULL_EQUAL,
    NAME_INITIALS,
    NAME_MIDDLE_CONFLICT,
    NameParts,
    block_key,
    name_compatibility,
    parse_name,
)
from works.identity.signature import Signature

__all__ = [
    "NAME_CONFLICT",
    "NAME_FIRST_EQUAL",
    "NAME_FULL_EQUAL",
    "NAME_INITIALS",
    "NAME_MIDDLE_CONFLICT",
    "Cohesion",
    "ConstraintConflict",
    "IdentityModel",
    "LinkResult",
    "NameParts",
    "Signature",
    "block_key",
    "cluster_block",
    "cohesion",
    "default_model",
    "link",
    "name_compatibility",
    "parse_name",
]
