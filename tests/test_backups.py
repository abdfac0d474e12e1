"""make backup / make restore (alliance/backups.py): a restored copy has every row and works."""

import os
import re
import sqlite3
import subprocess
import sys

import psycopg2
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from psycopg2 import sql

from tests.conftest import make_tenant
from tests.needs import needs_postgresql


def _require_postgres():
    needs_postgresql("pg_dump and pg_restore need it")


def _url(name: str) -> str:
    config = settings.DATABASES["default"]
    return (
        f"postgres://{config['USER']}:{config['PASSWORD']}@{config['HOST'] or '127.0.0.1'}"
        f":{config['PORT'] or 5432}/{name}"
    )


def _admin_connection():
    config = settings.DATABASES["default"]
    admin = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    admin.autocommit = True
    return admin


def _row_counts(url: str) -> dict[str, int]:
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(name for (name,) in cursor.fetchall())
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    db.close()
    return counts


def _manage(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


SITE_CHECK = """
from django.test import Client
from members.models import User
client = Client()
client.force_login(User.objects.get(email="ceo@alpha.example"))
response = client.get("/alpha/")
print(response.status_code, "Alliance ALPHA" in response.content.decode())
"""


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_database_whole_and_working(tmp_path):
    _require_postgres()
    make_tenant("alpha")
    backups = tmp_path / "backups"
    call_command("backup_database", output_dir=backups)
    [dump] = backups.iterdir()
    assert re.fullmatch(r"test_alliance\w*-\d{8}T\d{6}Z\.dump", dump.name), dump.name

    source_name = settings.DATABASES["default"]["NAME"]
    copy_name = f"{source_name}_restored"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy_name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(copy_name)))
    try:
        copy_url = _url(copy_name)
        call_command("restore_database", str(dump), database_url=copy_url)
        counts = _row_counts(copy_url)
        assert counts == _row_counts(_url(source_name))
        assert counts["meetings_meeting"] >= 1 and counts["members_user"] >= 2

        migrations = _manage(copy_url, "migrate", "--check")
        assert migrations.returncode == 0, migrations.stdout + migrations.stderr
        site = _manage(copy_url, "shell", "--verbosity=0", "--command", SITE_CHECK)
        assert site.stdout.split() == ["200", "True"], site.stdout + site.stderr

        # Into a database that has tables: refused, unless asked to replace them.
        with pytest.raises(CommandError, match="already has"):
            call_command("restore_database", str(dump), database_url=copy_url)
        call_command("restore_database", str(dump), database_url=copy_url, replace=True)
        assert _row_counts(copy_url) == counts
    finally:
        with admin.cursor() as cursor:
            # Client connections only: an autovacuum worker on the restored
            # copy is a superuser process this role may not end, and DROP
            # DATABASE stops it itself.
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND backend_type = 'client backend'",
                [copy_name],
            )
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy_name)))
        admin.close()


def test_a_failed_dump_leaves_no_file_that_looks_like_a_backup(tmp_path):
    _require_postgres()
    with pytest.raises(CommandError, match="pg_dump failed"):
        call_command("backup_database", output_dir=tmp_path, database_url=_url("no_such_database"))
    assert list(tmp_path.iterdir()) == []


def _sqlite(path, rows: int):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE reading (id INTEGER PRIMARY KEY, value TEXT)")
    db.executemany("INSERT INTO reading (value) VALUES (?)", [(f"v{i}",) for i in range(rows)])
    db.commit()
    db.close()


def _values(path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, value FROM reading ORDER BY id").fetchall()
    finally:
        db.close()


def test_the_embedded_sqlite_database_backs_up_and_restores(tmp_path):
    source, restored = tmp_path / "db.sqlite3", tmp_path / "restored.sqlite3"
    _sqlite(source, 250)
    backups = tmp_path / "backups"
    call_command("backup_database", output_dir=backups, database_url=f"sqlite:///{source}")
    [backup] = backups.iterdir()
    assert re.fullmatch(r"db-\d{8}T\d{6}Z\.sqlite3", backup.name)
    call_command("restore_database", str(backup), database_url=f"sqlite:///{restored}")
    assert _values(restored) == _values(source) and len(_values(restored)) == 250
    with pytest.raises(CommandError, match="already has 1 tables"):
        call_command("restore_database", str(backup), database_url=f"sqlite:///{restored}")


def test_restoring_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="No backup at"):
        call_command(
            "restore_database",
            str(tmp_path / "nothing.dump"),
            database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        )
