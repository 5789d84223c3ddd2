"""Decisions become training rows: ``moderation export-labels`` writes them and
the training reader reads them back."""
import json

from moderation.domain import Status
from moderation.training.readers import read_labelled

from .conftest import decide, seed


async def test_export_labels_is_read_back_by_the_training_reader(desk, run_cli, tmp_path, capsys):
    store, client = desk.store, desk.client
    ham = await seed(store, desk.site_id, score=0.35, body="A fair point about the council budget.",
                     email="ham@example.fr")
    spam = await seed(store, desk.site_id, score=0.6, body="Cheap followers at www.subs4u.example",
                      email="spam@example.fr")
    rescued = await seed(store, desk.other_site_id, score=0.9, status=Status.SPAM, language="fr",
                         body="Merci pour cet article sur la bibliothèque.")
    rejected = await seed(store, desk.site_id, body="You are all idiots.")
    changed_mind = await seed(store, desk.site_id, score=0.5, body="Visit my page for more")
    await seed(store, desk.site_id, body="Still waiting for a moderator.")
    await seed(store, desk.site_id, status=Status.PUBLISHED, body="Published by the model alone.")
    assert (await decide(client, desk.claire, ham, "approve"))[0] == 200
    assert (await decide(client, desk.claire, spam, "spam"))[0] == 200
    assert (await decide(client, desk.paul, rescued, "approve", expected="spam"))[0] == 200
    assert (await decide(client, desk.claire, rejected, "reject"))[0] == 200
    assert (await decide(client, desk.claire, changed_mind, "approve"))[0] == 200
    assert (await decide(client, desk.admin, changed_mind, "spam", expected="published"))[0] == 200

    out = tmp_path / "labels.jsonl"
    assert await run_cli("export-labels", str(out)) == 0
    assert "exported 4 labels (2 spam, 2 ham)" in capsys.readouterr().out
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(set(line) == {"body", "label", "language", "site", "decided_at", "model_score",
                             "source"} and line["source"] == "moderator" for line in lines)
    text = out.read_text(encoding="utf-8")
    assert "@example.fr" not in text and "203.0.113" not in text

    result = read_labelled(out)
    assert result.format == "jsonl" and result.errors == []
    got = {(row.body, row.label, row.language, row.site) for row in result.rows}
    assert got == {
        ("A fair point about the council budget.", 0, "en", "journal"),
        ("Cheap followers at www.subs4u.example", 1, "en", "journal"),
        ("Merci pour cet article sur la bibliothèque.", 0, "fr", "blog"),
        ("Visit my page for more", 1, "en", "journal"),   # the latest decision counts
    }
    by_body = {line["body"]: line for line in lines}
    assert by_body["Merci pour cet article sur la bibliothèque."]["model_score"] == 0.9
    assert by_body["Visit my page for more"]["decided_at"].endswith("Z")

    assert await run_cli("export-labels", "--site", "blog", str(out)) == 0
    assert [row.site for row in read_labelled(out).rows] == ["blog"]
    assert await run_cli("export-labels", "--since", "2999-01-01", str(out)) == 0
    assert read_labelled(out).rows == []
    assert await run_cli("export-labels", "--since", "yesterday", str(out)) == 2
    assert await run_cli("export-labels", "--site", "nowhere", str(out)) == 1
