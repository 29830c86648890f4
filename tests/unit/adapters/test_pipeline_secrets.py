"""Pipeline and recon files: passwords come from the environment, a file or ~/.pgpass, a
literal one is warned about, none is ever shown; a list of names is never one string."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.files.pipelines import PipelineFileError, load_pipeline
from adapters.files.recons import ReconFileError, load_recon
from adapters.files.secrets import pgpass_password
from adapters.sql.target_urls import jdbc_url, sqlalchemy_url
from apps.ingestion.main import cli as ingestion

SECRET = "s3cr3t-Pa55"


def _pipeline(tmp_path: Path, source: str, target: str, keys: str = '["order_id"]') -> Path:
    path = tmp_path / "p.toml"
    path.write_text(
        f'name = "p"\nmode = "scd1"\nkeys = {keys}\n[source]\n{source}\n[target]\n{target}\n',
        encoding="utf-8",
    )
    return path


JDBC = 'kind = "jdbc"\nurl = "jdbc:postgresql://db.example:5432/shop"\ntable = "public.orders"\nuser = "etl"'
PG_TARGET = (
    'kind = "postgresql"\nurl = "postgresql://etl@wh.example:5432/dw"\ntable = "public.orders"'
)


def test_password_env_gives_the_password_and_no_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", SECRET)
    monkeypatch.setenv("DW_PASSWORD", SECRET + "2")
    loaded = load_pipeline(
        _pipeline(
            tmp_path,
            JDBC + '\npassword_env = "SHOP_PASSWORD"',
            PG_TARGET + '\npassword_env = "DW_PASSWORD"',
        )
    )
    assert loaded.spec.source.password == SECRET and loaded.warnings == ()
    assert jdbc_url(loaded.spec.target)[1]["password"] == SECRET + "2"
    assert f":{SECRET}2@" in sqlalchemy_url(loaded.spec.target)
    assert SECRET not in repr(loaded.spec)  # never in a repr, a log line or an error


def test_an_unset_variable_names_the_key_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(PipelineFileError) as error:
        load_pipeline(_pipeline(tmp_path, JDBC + '\npassword_env = "NOT_SET_ANYWHERE"', PG_TARGET))
    assert "source.password_env: the environment variable NOT_SET_ANYWHERE is not set" in str(
        error.value
    )


def test_password_file_is_read_relative_to_the_pipeline(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "shop").write_text(SECRET + "\n", encoding="utf-8")
    loaded = load_pipeline(
        _pipeline(tmp_path, JDBC + '\npassword_file = "secrets/shop"', PG_TARGET)
    )
    assert loaded.spec.source.password == SECRET
    with pytest.raises(PipelineFileError, match=r"source.password_file: .*missing"):
        load_pipeline(_pipeline(tmp_path, JDBC + '\npassword_file = "missing"', PG_TARGET))


def test_a_literal_password_works_with_a_warning_that_does_not_show_it(tmp_path: Path) -> None:
    loaded = load_pipeline(
        _pipeline(
            tmp_path,
            JDBC + f'\npassword = "{SECRET}"',
            PG_TARGET.replace("etl@", f"etl:{SECRET}@"),
        )
    )
    assert loaded.spec.source.password == SECRET
    assert len(loaded.warnings) == 2
    assert all("literal password" in w and "password_env" in w for w in loaded.warnings)
    assert not any(SECRET in w for w in loaded.warnings)


def test_two_ways_at_once_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineFileError, match="give one of password, password_env"):
        load_pipeline(_pipeline(tmp_path, JDBC + '\npassword = "x"\npassword_env = "Y"', PG_TARGET))


def test_pgpass_is_honoured_like_libpq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(
        "# comment\nother:5432:*:etl:wrong\ndb.example:5432:shop:etl:" + SECRET + "\n"
        "wh.example:*:dw:etl:pa\\:ss\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    loaded = load_pipeline(_pipeline(tmp_path, JDBC, PG_TARGET))
    assert loaded.spec.source.password == SECRET
    assert loaded.spec.target.password == "pa:ss"
    assert loaded.warnings == ()
    assert pgpass_password("nowhere", 5432, "x", "y", {"PGPASSFILE": str(pgpass)}) is None


def test_a_recon_side_takes_its_password_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_PASSWORD", SECRET)
    path = tmp_path / "r.toml"
    path.write_text(
        f'name = "r"\nkeys = ["id"]\n[source]\n{JDBC}\npassword_env = "SHOP_PASSWORD"\n'
        f'[target]\n{JDBC}\npassword = "{SECRET}"\n',
        encoding="utf-8",
    )
    loaded = load_recon(path)
    assert loaded.spec.source.password == SECRET == loaded.spec.target.password
    assert len(loaded.warnings) == 1 and "target holds a literal password" in loaded.warnings[0]
    path.write_text(path.read_text().replace('password = "', 'password_env = "NOPE'))
    with pytest.raises(ReconFileError, match="target.password_env"):
        load_recon(path)


@pytest.mark.parametrize("keys", ['"order_id"', "[1, 2]", "7"])
def test_keys_that_are_not_a_list_of_names_are_refused_naming_the_fix(
    tmp_path: Path, keys: str
) -> None:
    with pytest.raises(PipelineFileError) as error:
        load_pipeline(_pipeline(tmp_path, 'kind = "parquet"\npath = "x"', PG_TARGET, keys))
    assert "keys: expected" in str(error.value)
    if keys == '"order_id"':
        assert 'write ["order_id"]' in str(error.value)


def test_the_cli_says_it_in_one_line_exit_2_before_any_spark(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, 'kind = "parquet"\npath = "x"', PG_TARGET, '"order_id"')
    result = CliRunner().invoke(
        ingestion,
        ["--url", f"sqlite:///{tmp_path / 'm.db'}", "plan", str(pipeline)],
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "keys: expected a list of names" in result.stderr


def test_a_password_never_shows_in_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DW_PASSWORD", SECRET)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "part-0.parquet").write_bytes(b"PAR1")
    pipeline = _pipeline(
        tmp_path,
        'kind = "parquet"\npath = "x"',
        'kind = "postgresql"\nurl = "postgresql://etl@127.0.0.1:1/dw"\ntable = "public.orders"\n'
        'password_env = "DW_PASSWORD"',
    )
    result = CliRunner().invoke(
        ingestion, ["--url", f"sqlite:///{tmp_path / 'm.db'}", "plan", str(pipeline)]
    )
    assert result.exit_code == 1, result.stderr
    assert "target public.orders (postgresql): connection failed" in result.stderr
    assert SECRET not in result.stderr + result.stdout
