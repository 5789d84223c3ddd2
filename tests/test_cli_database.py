"""Which database the command line uses: only ``init`` (and ``serve``) create
a SQLite file, every other command refuses a missing one and names the one it
used on stderr, so that a key is never written where the server does not look."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from moderation import cli
from moderation.store.base import DatabaseMissing, open_store
from moderation.store.sqlite import migrations

from .store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)

SITE_ADD = ["site", "add", "--name", "demo", "--url", "https://blog.example", "--lang", "fr",
            "--mode", "auto"]


@pytest.fixture
def folder(tmp_path, monkeypatch, toy_models_dir):
    """An empty working folder, the default database URL (``./moderation.db``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODERATION_DATABASE_URL", raising=False)
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(toy_models_dir))
    monkeypatch.setenv("MODERATION_LOG_LEVEL", "WARNING")
    return tmp_path


def run(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [SITE_ADD, ["site", "list"], ["moderator", "add", "ada"],
                                     ["purge"], ["migrate"], ["webhook", "list"],
                                     ["people", "export", "jean@example.fr"], ["rescore"]])
def test_a_command_refuses_a_database_that_does_not_exist(folder, capsys, command):
    code, out, err = run(capsys, *command)
    assert code == 1 and out == ""
    assert f"no database at {folder / 'moderation.db'}" in err     # the absolute path
    assert "moderation init" in err and "MODERATION_DATABASE_URL" in err
    assert "folder the server runs in" in err
    assert list(folder.iterdir()) == []                              # nothing created, no lock file


def test_init_creates_the_database_then_commands_use_it_and_say_which(folder, capsys):
    code, out, err = run(capsys, "init")
    assert code == 0
    assert f"database sqlite:///{folder / 'moderation.db'} created" in out
    assert (folder / "moderation.db").is_file()

    code, out, err = run(capsys, *SITE_ADD)
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("msk_")           # `| tail -n 1` is the key
    assert err == f"database: sqlite:///{folder / 'moderation.db'}\n"

    code, out, err = run(capsys, "site", "list")
    assert (code, out.split("\t")[0]) == (0, "demo")

    code, out, _ = run(capsys, "init")                               # twice: nothing lost
    assert code == 0 and "exists already" in out
    assert run(capsys, "site", "list")[1].startswith("demo\t")


def test_an_absolute_url_elsewhere_is_named_as_such(folder, capsys, monkeypatch, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("server") / "live.db"
    monkeypatch.setenv("MODERATION_DATABASE_URL", f"sqlite:///{elsewhere}")
    code, _, err = run(capsys, "site", "list")
    assert code == 1 and f"no database at {elsewhere} " in err and "relative to" not in err
    assert run(capsys, "init")[0] == 0 and elsewhere.is_file()
    assert run(capsys, "site", "list")[2] == f"database: sqlite:///{elsewhere}\n"
    assert not (folder / "moderation.db").exists()


def test_an_existing_database_is_still_migrated_by_any_command(folder, capsys):
    """A file made by an older version (first migration only) is brought up to date."""
    [(first, sql), *_] = migrations()
    with sqlite3.connect(folder / "moderation.db") as old:
        old.executescript(sql)
        old.execute(f"PRAGMA user_version = {first}")
    assert run(capsys, "site", "list")[0] == 0
    with sqlite3.connect(folder / "moderation.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == migrations()[-1][0]


def test_the_store_refuses_to_create_only_when_asked(folder):
    async def open_and_close(create):
        async with open_store("sqlite:///moderation.db", create=create):
            pass
    with pytest.raises(DatabaseMissing) as missing:
        asyncio.run(open_and_close(False))
    assert missing.value.path == str(folder / "moderation.db")
    asyncio.run(open_and_close(True))          # the server's way: create it
    asyncio.run(open_and_close(False))
    assert (folder / "moderation.db").is_file()


def test_database_labels_are_absolute_and_hide_passwords(folder):
    assert cli.database_label("sqlite:///data/m.db") == f"sqlite:///{folder / 'data' / 'm.db'}"
    assert cli.database_label("sqlite:////srv/m.db") == "sqlite:////srv/m.db"
    assert cli.database_label("postgresql://app:s3cret@db:5432/app?search_path=mod") == (
        "postgresql://app:***@db:5432/app?search_path=mod")
    assert cli.database_label("postgresql://app@db/app") == "postgresql://app@db/app"


@pytest.mark.postgres
def test_postgresql_needs_no_init(capsys, monkeypatch, postgres_url):
    monkeypatch.setenv("MODERATION_DATABASE_URL", postgres_url)
    monkeypatch.setenv("MODERATION_LOG_LEVEL", "WARNING")
    code, out, err = run(capsys, *SITE_ADD)
    assert code == 0 and out.strip().splitlines()[-1].startswith("msk_")
    assert err == f"database: {postgres_url}\n"
