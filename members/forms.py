from django import forms

from alliance.fields import TIME_ZONE_CHOICES

from .models import Organization, Role, User

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


class SignupForm(forms.Form):
    """Extra fields of allauth's signup (open only with an invitation)."""

    full_name = forms.CharField(max_length=200, label="Full name")

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    role = forms.ChoiceField(
        label="Role", required=False, choices=[("", "All roles"), *Role.choices]
    )
    organization = forms.ModelChoiceField(
        label="Organization",
        required=False,
        queryset=Organization.objects.none(),
        empty_label="All organizations",
    )

    def __init__(self, *args, alliance, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this alliance's organizations are offered, and accepted.
        self.fields["organization"].queryset = Organization.objects.filter(
            alliance=alliance, is_active=True
        )


class ProfileForm(forms.ModelForm):
    title = forms.CharField(
        max_length=200, required=False, help_text="Your title in this alliance's directory."
    )
    time_zone = forms.ChoiceField(
        choices=[("", "The alliance's time zone"), *TIME_ZONE_CHOICES],
        required=False,
        help_text="Meeting times are shown in this zone too.",
    )

    class Meta:
        model = User
        fields = ["full_name", "phone", "time_zone", "photo"]

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and hasattr(photo, "content_type"):  # a new upload
            if photo.size > PHOTO_MAX_BYTES:
                raise forms.ValidationError("The photo is larger than 2 MB; choose a smaller one.")
            if photo.content_type not in PHOTO_TYPES:
                raise forms.ValidationError("Use a JPEG, PNG, WebP or GIF image.")
        return photo
