"""ORCID: signing in with it, reading an iD's public works, and what BZPEER makes of them.

- `config`: the addresses and whether ORCID is configured at all (settings ORCID_*).
- `documents`: ORCID API v3.0 JSON read into plain dataclasses; arXiv ids and DOIs normalised
  (pure).
- `client`: a polite HTTP client for the public API (time-outs, retries with backoff,
  Retry-After, a size cap, spacing shared by every worker).
- `evidence`: the comparison of an iD's works and names with an author record, and the rule
  that approves a claim without an admin (pure).
- `checks`: the workflows (check a claim, offer works from other records, refresh owners'
  iDs), called by the `profiles.orcid_*` tasks.
- `provider`, `views`, `urls`, `signin`: allauth's ORCID provider with configurable addresses,
  and the social account adapter (the app comes from the settings; one iD per account).
"""
