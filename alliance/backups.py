"""Backups and restores of the whole database (docs/operations.md).

PostgreSQL: `pg_dump -Fc` and `pg_restore`, the tools of the server's own
version. The embedded SQLite default: SQLite's online backup API, which copies
a consistent snapshot while the site runs. A backup is written under a
temporary name and renamed when complete, so a file that looks like a backup
is one. A restore goes into an empty database only, unless told to replace
what is there, and in one transaction: it succeeds whole or changes nothing.
"""

import datetime
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import environ
from django.conf import settings


class BackupError(Exception):
    """Said to the operator as it is: what failed and what to do."""


@dataclass(frozen=True)
class Database:
    engine: str  # "postgresql" or "sqlite"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, config: dict) -> "Database":
        engine = config["ENGINE"].rsplit(".", 1)[-1]
        if engine not in ("postgresql", "sqlite3"):
            raise BackupError(f"Backups support PostgreSQL and SQLite, not {config['ENGINE']}.")
        return cls(
            engine="sqlite" if engine == "sqlite3" else engine,
            name=str(config["NAME"]),
            user=config.get("USER") or "",
            password=config.get("PASSWORD") or "",
            host=config.get("HOST") or "",
            port=str(config.get("PORT") or ""),
        )

    @classmethod
    def from_url(cls, url: str | None) -> "Database":
        config = environ.Env.db_url_config(url) if url else settings.DATABASES["default"]
        return cls.from_settings(config)

    def environment(self) -> dict[str, str]:
        # libpq's own variables: the password never appears in a process list.
        names = {"PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user}
        names["PGPASSWORD"] = self.password
        names["PGDATABASE"] = self.name
        return {**os.environ, **{key: value for key, value in names.items() if value}}


def backup(*, database: Database, directory: Path, now: datetime.datetime) -> Path:
    """Write a backup of `database` into `directory`; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "dump" if database.engine == "postgresql" else "sqlite3"
    target = directory / f"{Path(database.name).stem}-{stamp}.{suffix}"
    partial = target.with_name(target.name + ".partial")
    try:
        if database.engine == "postgresql":
            _run(["pg_dump", "--format=custom", f"--file={partial}"], database)
        else:
            _sqlite_copy(database.name, partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(*, database: Database, path: Path, replace: bool = False) -> None:
    """Restore the backup at `path` into `database`, which must be empty unless `replace`."""
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    tables = _table_count(database)
    if tables and not replace:
        raise BackupError(
            f"The database {database.name!r} already has {tables} tables. Restore into an "
            "empty database, or pass --replace (REPLACE=1) to drop what is there first."
        )
    if database.engine == "postgresql":
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
        command += ["--single-transaction", f"--dbname={database.name}"]
        if tables:
            command += ["--clean", "--if-exists"]
        _run([*command, str(path)], database)
    else:
        _sqlite_copy(path, database.name)


def _sqlite_copy(source_path, target_path) -> None:
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _table_count(database: Database) -> int:
    if database.engine == "sqlite":
        if not Path(database.name).exists():
            return 0
        connection = sqlite3.connect(database.name)
        try:
            query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            return connection.execute(query).fetchone()[0]
        finally:
            connection.close()
    query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    psql = ["psql", "--no-psqlrc", "--tuples-only", "--no-align", f"--command={query}"]
    return int(_run(psql, database).strip())


def _run(command: list[str], database: Database) -> str:
    try:
        # The command is ours (pg_dump, pg_restore, psql), as a list: no shell.
        finished = subprocess.run(  # noqa: S603
            command, env=database.environment(), capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise BackupError(
            f"{command[0]} is not installed: it comes with PostgreSQL's client "
            "(Debian: postgresql-client)."
        ) from error
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.strip()}")
    return finished.stdout
