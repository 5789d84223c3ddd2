"""The news desk's command line on a real database file: sites changed and
their key rotated, moderators listed, rescoped and revoked, threads closed,
rules on authors set, listed and removed, an author's history, and the admin
log of it all; wrong arguments exit 2 with a sentence, unknown names 1."""
from __future__ import annotations

import pytest

from moderation import cli


@pytest.fixture
def run(tmp_path, monkeypatch, toy_models_dir, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODERATION_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.db'}")
    monkeypatch.setenv("MODERATION_MODEL_DIR", str(toy_models_dir))
    monkeypatch.setenv("MODERATION_LOG_LEVEL", "WARNING")

    def invoke(*args):
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out.strip().splitlines(), err
    assert invoke("init")[0] == 0
    assert invoke("site", "add", "--name", "journal", "--url", "https://journal.example", "--lang", "fr",
                  "--mode", "auto")[0] == 0
    return invoke


def test_sites_moderators_and_threads_change_from_the_command_line(run):
    assert run("site", "set", "journal", "--mode", "pre", "--lang", "en")[1] == [
        "site journal: pre moderation, language en, no automatic trust"]
    assert run("site", "set", "journal", "--auto-trust-after", "5")[1] == [
        "site journal: pre moderation, language en, authors trusted after 5 approved comments"]
    assert run("site", "set", "journal", "--auto-trust-after", "-1")[0] == 2
    assert run("site", "list")[1][0].split("\t")[2:4] == ["en", "pre"]
    code, out, _ = run("site", "rotate-key", "journal", "--overlap-hours", "1")
    assert code == 0 and out[-1].startswith("msk_")
    assert run("site", "set", "journal")[0] == 2                       # nothing to change
    assert run("site", "rotate-key", "nowhere")[0] == 1

    assert run("moderator", "add", "bob", "--site", "journal")[0] == 0
    assert run("moderator", "list")[1] == ["bob\tmoderator\tjournal\tactive"]
    assert run("moderator", "set", "bob", "--all-sites", "--role", "admin")[0] == 0
    assert run("moderator", "list")[1] == ["bob\tadmin\tevery site\tactive"]
    assert run("moderator", "set", "bob", "--site", "journal", "--all-sites")[0] == 2
    assert run("moderator", "revoke", "bob")[1] == ["moderator bob revoked; 0 session(s) ended"]
    assert run("moderator", "list")[1] == ["bob\tadmin\tevery site\trevoked"]
    assert run("moderator", "revoke", "nobody")[0] == 1

    assert run("thread", "close", "journal", "article-1")[1][0].startswith("thread article-1 of journal: closed")
    assert run("thread", "close", "nowhere", "article-1")[0] == 1

    actions = [line.split("\t")[2] for line in run("events")[1]]
    assert actions == ["site.update", "site.update", "site.key_rotated", "moderator.update", "moderator.revoked",
                       "thread.update"]
    assert run("events", "--limit", "0")[0] == 2


def test_rules_on_authors_and_their_history_from_the_command_line(run):
    code, out, _ = run("author", "ban", "journal", "--email", "Troll@Example.org", "--note", "insults",
                       "--days", "30")
    assert code == 0 and out[0].startswith("rule 1: ban email:troll@example.org on journal")
    assert run("author", "trust", "journal", "--ip", "203.0.113.9")[0] == 0
    rules = run("author", "rules", "journal")[1]
    assert [line.split("\t")[1:3] for line in rules] == [["ban", "email:troll@example.org"],
                                                         ["trust", "ip:203.0.113.0/24"]]
    assert "until" in rules[0] and "for good" in rules[1]
    code, _, err = run("author", "watch", "journal", "--email", "not-an-address")
    assert code == 2 and "value: invalid value" in err
    assert run("author", "remove", "journal", "1")[1] == ["rule 1 removed (ban email:troll@example.org)"]
    assert run("author", "remove", "journal", "1")[0] == 1
    assert run("author", "history", "--email", "troll@example.org")[1] == ["no comment"]
