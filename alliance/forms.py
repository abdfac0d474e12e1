"""Forms of the tenant core: the collective voice and "Need help?".

Choices of tenant rows are built in `__init__` for the current alliance (a
module-level queryset on a scoped model would raise outside a scope), so a
posted id of another alliance is an invalid choice.
"""

from django import forms
from django.core.files.uploadedfile import UploadedFile

from members.models import Membership

from . import selectors
from .models import Alliance, Publication
from .notifications.outbox import single_line


class PublicationFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *Publication.Kind.choices]
    )
    workgroup = forms.ModelChoiceField(
        label="Workgroup", required=False, queryset=None, empty_label="All workgroups"
    )
    year = forms.TypedChoiceField(label="Year", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, alliance: Alliance, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workgroup"].queryset = selectors.alliance_workgroups(alliance=alliance)
        years = selectors.publication_years(alliance=alliance)
        self.fields["year"].choices = [("", "All years"), *((y, str(y)) for y in years)]

    def filters(self) -> dict:
        """The valid filters; an invalid one is ignored rather than emptying the list."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "kind": data.get("kind") or "",
            "workgroup": data.get("workgroup"),
            "year": data.get("year"),
        }


class AuthorChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, membership: Membership) -> str:
        name = membership.user.full_name or "Unnamed member"
        if membership.organization_id:
            return f"{name} — {membership.organization.name}"
        return name


class PublicationForm(forms.ModelForm):
    url = forms.URLField(
        label="Link",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="Where it can be read or watched, e.g. https://journal.example.org/article.",
    )
    remove_file = forms.BooleanField(label="Remove the current file", required=False)
    # Declared with no queryset: Meta would build one on the scoped models at import.
    author_members = AuthorChoiceField(
        label="Authors",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The members who wrote or spoke.",
    )
    author_organizations = forms.ModelMultipleChoiceField(
        label="Organizations",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The member organizations behind it.",
    )
    workgroup = forms.ModelChoiceField(
        label="Workgroup", queryset=None, required=False, empty_label="No workgroup"
    )

    class Meta:
        model = Publication
        fields = [
            "kind",
            "title",
            "published_on",
            "venue",
            "url",
            "file",
            "summary",
            "author_members",
            "author_organizations",
            "workgroup",
        ]
        widgets = {
            "published_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            # The stored file is shown (with our download link) by the template:
            # the default widget would link to the unserved media URL.
            "file": forms.FileInput,
            "summary": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "file": "A PDF or office document, up to 25 MB. Give a link, a file, or both.",
        }

    def __init__(self, *args, alliance: Alliance, membership: Membership, can_manage: bool, **kw):
        super().__init__(*args, **kw)
        self.instance.alliance = alliance
        editing = self.instance.pk is not None
        keep_authors = [m.pk for m in self.instance.author_members.all()] if editing else []
        keep_orgs = [o.pk for o in self.instance.author_organizations.all()] if editing else []
        self.fields["author_members"].queryset = selectors.publication_author_choices(
            alliance=alliance, keep=keep_authors
        )
        self.fields["author_organizations"].queryset = selectors.publication_organization_choices(
            alliance=alliance, keep=keep_orgs
        )
        self.fields["workgroup"].queryset = selectors.alliance_workgroups(alliance=alliance)
        if not can_manage:
            authors = self.fields["author_members"]
            authors.help_text = "The members who wrote or spoke. You are always one of them."
            if not editing:
                self.initial.setdefault("author_members", [membership.pk])
        # Kept from before the POST: building the instance from the form changes it.
        self.current_file_name = (self.instance.file.name or "").rsplit("/", 1)[-1]
        if not self.instance.file:
            del self.fields["remove_file"]

    def clean(self):
        cleaned = super().clean()
        file = cleaned.get("file")
        if cleaned.get("remove_file") and not isinstance(file, UploadedFile):
            # False clears the field when the instance is built (FileField.save_form_data).
            cleaned["file"] = file = False
        if "url" in cleaned and not cleaned["url"] and not file and "file" not in self.errors:
            self.add_error("url", "Give a link to the publication or upload its file (or both).")
        return cleaned

    def publication_fields(self) -> dict:
        """The publication's own fields for the services (not the many-to-many ones)."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in ("kind", "title", "published_on", "venue", "url", "summary", "workgroup")
        }
        if isinstance(data.get("file"), UploadedFile):
            fields["file"] = data["file"]
        elif data.get("file") is False:
            fields["file"] = ""
        return fields


class NeedHelpForm(forms.Form):
    subject = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Give your message a subject.",
            "max_length": "Keep the subject to %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    message = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": "Write your question or message.",
            "max_length": (
                "Keep the message to %(limit_value)d characters (it has %(show_value)d): "
                "shorten it, or send the rest in a second message."
            ),
        },
        help_text="Up to 5,000 characters. The staff reply to your email address.",
    )

    def clean_subject(self) -> str:
        # A subject is one line: a line break must never reach a mail header.
        return single_line(self.cleaned_data["subject"])
