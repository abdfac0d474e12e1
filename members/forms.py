from django import forms


class SignupForm(forms.Form):
    """Extra fields of allauth's signup (open only with an invitation)."""

    full_name = forms.CharField(max_length=200, label="Full name")

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])
