"""An email backend that builds every message's MIME bytes, as SMTP would,
then drops them: the benchmark measures rendering and building, not a server."""

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            message.message().as_bytes(linesep="\r\n")
        return len(email_messages)
