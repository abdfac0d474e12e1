"""Tests that only PostgreSQL can run: skipped elsewhere, never under CI."""

import os

import pytest
from django.db import connection


def needs_postgresql(why: str) -> None:
    """Skip the calling test on another database, saying `why` it needs
    PostgreSQL. CI runs the suite on PostgreSQL: a skip there would count
    an untested gate as passed, so there the test fails instead."""
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run this test on PostgreSQL (DATABASE_URL).")
    pytest.skip(f"{why}; CI runs it on PostgreSQL")
