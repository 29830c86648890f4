"""A source a run could not read or a target it could not write is said before anything
starts (no Spark, no record): a file its user may not read,
a missing PostgreSQL schema, a user without privileges, a folder under /proc or /sys."""

from __future__ import annotations

import uuid
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.files.access import path_problem, readable_problem
from adapters.sql.run_access import target_problem
from apps.ingestion.main import cli as ingestion
from domain.ingestion.spec import PipelineSpec, SourceSpec, TargetSpec
from services import fresh_schema, postgres_url


def _spec(target: TargetSpec) -> PipelineSpec:
    return PipelineSpec(name="p", source=SourceSpec(kind="parquet", path="/x"), target=target)


def _libpq(url: str, user: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if user is not None:
        parsed = parsed.set(username=user)
    return parsed.render_as_string(hide_password=False)


def test_a_missing_schema_is_named_with_the_fix(tmp_path: Path) -> None:
    url = _libpq(postgres_url())
    missing = f"nope_{uuid.uuid4().hex[:8]}"
    problem = target_problem(_spec(TargetSpec(kind="postgresql", url=url, table=f"{missing}.t")))
    assert problem is not None
    assert f"the schema {missing!r} does not exist; create it" in problem
    assert target_problem(_spec(TargetSpec(kind="postgresql", url=url, table="public.t"))) is None
    target = f'kind = "postgresql"\nurl = "{url}"\ntable = "{missing}.orders"'
    _said_in_one_line(tmp_path, target, "does not exist; create it")


def _said_in_one_line(tmp_path: Path, target: str, reason: str) -> None:
    """The command line says ``reason`` in one line, exit 2, before any engine (or record),
    for plan and run of a pipeline with the [target] body ``target``."""
    (tmp_path / "x").mkdir()  # a source there is: the target is what is wrong
    (tmp_path / "x" / "part-0.parquet").write_bytes(b"PAR1")
    spec = tmp_path / "p.toml"
    spec.write_text(
        f'name = "p"\n[source]\nkind = "parquet"\npath = "x"\n[target]\n{target}\n',
        encoding="utf-8",
    )
    for command in ("plan", "run"):
        result = CliRunner().invoke(
            ingestion, ["--url", f"sqlite:///{tmp_path / 'm.db'}", command, str(spec)]
        )
        assert result.exit_code == 2, (command, result.stderr)
        assert reason in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr


def test_a_user_without_privileges_is_told_which() -> None:
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with fresh_schema() as locked:
        schema = locked.name
        admin = create_engine(locked.server)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            connection.execute(text(f'CREATE TABLE "{schema}".t (id int)'))
            connection.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        try:
            target = TargetSpec(
                kind="postgresql", url=_libpq(locked.server, role), table=f"{schema}.t"
            )
            problem = target_problem(_spec(target))
            assert problem is not None and "may not insert, update and delete" in problem
            fresh = TargetSpec(
                kind="postgresql", url=_libpq(locked.server, role), table=f"{schema}.new"
            )
            problem = target_problem(_spec(fresh))
            assert problem is not None and f"may not create tables in schema {schema!r}" in problem
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP OWNED BY "{role}"'))
                connection.execute(text(f'DROP ROLE "{role}"'))
            admin.dispose()


def test_folders_nothing_can_be_written_to_are_named(tmp_path: Path) -> None:
    assert "a kernel file system" in (path_problem(Path("/proc/x/orders"), "t") or "")
    catalog = f"sqlite:///{tmp_path / 'catalog.db'}"
    table = TargetSpec(kind="iceberg", table="s.t", catalog=catalog, location="/sys/lake/t")
    assert "a kernel file system" in (target_problem(_spec(table)) or "")
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in (path_problem(tmp_path / "file" / "orders", "t") or "")
    assert path_problem(tmp_path / "new" / "deeper" / "orders", "t") is None
    sqlite = TargetSpec(kind="sqlite", path="/proc/self/warehouse.db", table="t")
    assert "a kernel file system" in (target_problem(_spec(sqlite)) or "")


def test_a_source_the_user_may_not_read_is_named_not_called_missing() -> None:
    """As root every file is readable, so the check runs as an unprivileged user (nobody),
    as a person on a shared machine would (Spark alone says "does not exist")."""
    import inspect
    import shutil
    import subprocess
    import tempfile

    from adapters.files import access

    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python is not None, "Debian's python3 runs the check as nobody"
    folder = Path(tempfile.mkdtemp(prefix="unreadable-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        source = folder / "orders"
        source.mkdir()
        (source / "part-0.parquet").write_bytes(b"PAR1")
        (source / "part-1.parquet").write_bytes(b"PAR1")
        (source / "part-1.parquet").chmod(0o000)
        (source / "_SUCCESS").write_bytes(b"")
        # The module's own text, run by nobody (who may not read this sandbox's files).
        script = inspect.getsource(access) + (
            f"\nprint(readable_problem(Path({str(source)!r}), 'p: source'))"
            f"\nprint(readable_problem(Path({str(source / 'part-0.parquet')!r}), 'p: source'))"
        )
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-"],
            input=script,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        said = result.stdout.strip().splitlines()
        assert said == [
            f"p: source: {source / 'part-1.parquet'} (in {source}) is not readable by this "
            "user; fix its permissions (chmod, chown)",
            "None",
        ], said
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert "does not exist; check the path" in (
        readable_problem(folder / "nowhere", "p: source") or ""
    )


def test_a_new_parquet_directory_target_is_refused_with_the_migration_command(
    tmp_path: Path,
) -> None:
    """The versioned layout is deprecated: a target made before (its path a version link)
    is still written; a new one, here or on an object store, is refused, naming what to
    write instead and the command that converts an old one."""
    for path in (str(tmp_path / "warehouse" / "orders"), "s3a://lake/orders"):
        problem = target_problem(_spec(TargetSpec(kind="parquet", path=path)))
        assert problem is not None and f"target {path}: new Parquet directory targets" in problem
        assert 'kind = "iceberg"' in problem and "ingestion migrate-target" in problem
    made = tmp_path / "made"
    (tmp_path / ".made.versions" / "run-1").mkdir(parents=True)
    made.symlink_to(".made.versions/run-1")
    assert target_problem(_spec(TargetSpec(kind="parquet", path=str(made)))) is None
    new = tmp_path / "new"
    _said_in_one_line(tmp_path, f'kind = "parquet"\npath = "{new}"', "migrate-target")
    assert not new.exists()
