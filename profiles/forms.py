"""Forms for claims, owner edits, invitations, messages, account settings and deletion."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from bzpeer.lib.text import validate_single_line
from profiles.levels import normalise_orcid
from profiles.limits import MAX_EVIDENCE_LINKS, MAX_MESSAGE_LENGTH
from profiles.models import AccountSettings
from works.models import AuthorRecord

MAX_LINK_LENGTH = 300


class SingleLineField(forms.CharField):
    """One line of text: line breaks, tabs and other control characters are refused (a subject,
    a name, an affiliation ends up in a plain-text email or a page's one-line header)."""

    default_validators = [validate_single_line]


class ClaimForm(forms.Form):
    orcid = SingleLineField(
        label="ORCID iD (optional)",
        required=False,
        max_length=60,
        help_text="For example 0000-0002-1825-0097 or https://orcid.org/0000-0002-1825-0097. "
        "An admin who confirms it lifts the record to L3, Verified identity.",
    )
    links = forms.CharField(
        label="Links to pages that show you (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One address per line, at most 5: your page at your institution, a lab page, "
        "a conference page.",
    )
    statement = forms.CharField(
        label="A short statement",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        help_text="Tell the admins why this record is yours (up to 1,000 characters).",
    )

    def __init__(self, *args, authenticated_orcid: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if authenticated_orcid:
            # The account's iD is authenticated and used as it is: nothing to type.
            del self.fields["orcid"]

    def clean_orcid(self) -> str:
        raw = self.cleaned_data["orcid"].strip()
        if not raw:
            return ""
        orcid = normalise_orcid(raw)
        if orcid is None:
            raise ValidationError(
                "This is not a valid ORCID iD: check the 16 characters (the last one is a "
                "checksum and may be X)."
            )
        return orcid

    def clean_links(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        if len(lines) > MAX_EVIDENCE_LINKS:
            raise ValidationError(f"Give at most {MAX_EVIDENCE_LINKS} links.")
        validate = URLValidator(schemes=["http", "https"])
        for line in lines:
            if len(line) > MAX_LINK_LENGTH:
                raise ValidationError(f"Links are at most {MAX_LINK_LENGTH} characters.")
            # URLValidator lets control characters through in a path (an escape sequence).
            validate_single_line(line)
            try:
                validate(line)
            except ValidationError as error:
                raise ValidationError(
                    f"“{line[:80]}” is not a web address (http or https)."
                ) from error
        return list(dict.fromkeys(lines))


class OwnerEditForm(forms.ModelForm):
    affiliation = SingleLineField(
        label="Affiliation",
        required=False,
        max_length=300,
        help_text="Shown on your page instead of the affiliation found in the metadata. "
        "Leave empty to show the imported one.",
    )

    class Meta:
        model = AuthorRecord
        fields = ["description", "open_to_collaborate"]
        labels = {
            "description": "One-line description",
            "open_to_collaborate": (
                "Open to collaborate (signed-in researchers can send you invitations)"
            ),
        }
        help_texts = {"description": "Up to 300 characters. Leave empty for the generated one."}
        field_classes = {"description": SingleLineField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["affiliation"].initial = self.instance.owner_affiliation
        self.order_fields(["description", "affiliation", "open_to_collaborate"])


class InvitationForm(forms.Form):
    subject = SingleLineField(max_length=200)
    message = forms.CharField(
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_MESSAGE_LENGTH}),
        help_text=f"Plain text, up to {MAX_MESSAGE_LENGTH:,} characters.",
    )
    work = forms.TypedChoiceField(
        label="About one of their works (optional)", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, work_choices: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work"].choices = [("", "No particular work"), *work_choices]


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_MESSAGE_LENGTH}),
    )


class DigestForm(forms.ModelForm):
    class Meta:
        model = AccountSettings
        fields = ["digest"]
        widgets = {"digest": forms.RadioSelect}
        labels = {"digest": "Email me the new works of researchers I follow"}


class OrcidRefreshForm(forms.ModelForm):
    class Meta:
        model = AccountSettings
        fields = ["orcid_refresh"]
        help_texts = {
            "orcid_refresh": "Works added to your ORCID record that sit on other BZPEER records "
            "are then offered on your record's edit page."
        }


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("This is not your password.")
        return password


class AuthorRecordAdminForm(forms.ModelForm):
    """The admin's form for a record: its names and one-line texts stay on one line (they are
    written into emails and page headers)."""

    class Meta:
        model = AuthorRecord
        # The admin chooses the fields (all but its read-only ones), as with its default form.
        fields = "__all__"  # noqa: DJ007
        field_classes = {
            "display_name": SingleLineField,
            "description": SingleLineField,
            "owner_affiliation": SingleLineField,
        }


class DecisionForm(forms.Form):
    """The admin's reason for approving, rejecting or revoking claims (sent to the claimant)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
    orcid_confirmed = forms.BooleanField(
        required=False,
        label="I checked the ORCID iDs given as evidence (lifts those records to L3)",
    )
