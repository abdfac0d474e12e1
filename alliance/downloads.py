"""Streaming an alliance's private files to its members.

Uploaded files have no public URL (MEDIA_URL is not mounted): a view checks
membership (the tenant middleware) and the object's alliance, then calls this.
"""

import logging
import os

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

logger = logging.getLogger(__name__)


def document_response(field: FieldFile) -> FileResponse:
    """The file as a download; 404 with a logged error if storage lost it."""
    if not field:
        raise Http404("There is no file here.")
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        # The row survived but the file did not (a restore without media):
        # staff must hear of it; the member gets a clear "not found".
        logger.error("File %s is missing from storage.", field.name)
        raise Http404("This file is missing; the alliance's staff have been told.") from None
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(field.name))
    response["Cache-Control"] = "private, no-cache"
    return response
