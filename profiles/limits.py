"""Limits that a workflow enforces and a form shows, kept below both.

The workflows (claims, collaboration) refuse what goes past them; the forms state them to the
person typing. Forms import this module, never the workflows.
"""

# A claim's evidence: the admins read every link, and more than a handful is noise.
MAX_EVIDENCE_LINKS = 5
# Invitations and conversation messages, in characters.
MAX_MESSAGE_LENGTH = 2000
