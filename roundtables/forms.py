from django import forms

from .services import QUESTION_MAX_LENGTH


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Your question for the facilitators",
        max_length=QUESTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Other members can vote for it; the most wanted come first.",
    )
