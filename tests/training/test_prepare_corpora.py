"""scripts/prepare_corpora.py on small files shaped like the public corpora:
each becomes JSON lines that ``train.py`` reads as ham of the right language,
site and thread, with duplicates and fragments left out."""
import csv
import importlib.util
import json
from pathlib import Path

from moderation.training.readers import read_labelled

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prepare_corpora.py"


def load_script():
    spec = importlib.util.spec_from_file_location("prepare_corpora", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_corpus_becomes_ham_rows_train_py_reads(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    civil = write_csv(raw / "comments.csv", ["comment_id", "comment_text"],
                      [["1", "The council got this one right."], ["2", "  "],
                       ["3", "The council got this one right."], ["4", "You're an idiot, <b>sir</b>."]])
    an = write_csv(raw / "contributions.csv", ["theme", "text", "source"],
                   [["égalité au travail", "Publier les écarts de salaire dans chaque entreprise.", "x"],
                    ["égalité au travail", "oui", "y"],
                    ["médias", "Plus d'expertes invitées sur les plateaux télévisés.", "z"]])
    ucc = write_csv(raw / "test.csv", ["_unit_id", "_trusted_judgments", "comment", "healthy"],
                    [["11", "3", "Harper's budget was a mess, and here's why.", "1"],
                     ["12", "3", "What a ridiculous take.", "0"]])
    decidim = raw / "data brute"
    decidim.mkdir()
    comment_header = ["id", "created_at", "body", "author/id", "author/name", "commentable_id",
                      "commentable_type", "root_commentable_url"]
    write_csv(decidim / "commentaires_debats.csv", comment_header,
              [["515", "2019-01-17", "l'état devrait mieux écouter les maires", "1", "g", "23",
                "Decidim::Debates::Debate", "http://participation.lillemetropole.fr/processes/x/debates/23"]],
              delimiter=";")
    write_csv(decidim / "commentaires_propositions_libres.csv", comment_header,
              [["532", "2019-01-21", "Le vote blanc devrait compter.", "2", "h", "8",
                "Decidim::Proposals::Proposal", ""]], delimiter=";")
    write_csv(decidim / "propositions-libres.csv", ["id", "title", "body", "votes"],
              [["40", "Transports", "Des bus gratuits le dimanche.", "3"]], delimiter=";")
    out = tmp_path / "corpora"

    script = load_script()
    assert script.main(["--out", str(out), "--civil-comments", str(civil), "--an-consultation", str(an),
                        "--ucc", str(ucc), "--decidim", str(decidim)]) == 0

    civil_rows = lines(out / "train" / "civil_comments.jsonl")
    assert [r["body"] for r in civil_rows] == ["The council got this one right.", "You're an idiot, <b>sir</b>."]
    assert {(r["label"], r["language"], r["site"]) for r in civil_rows} == {("ham", "en", "civil-comments")}
    an_rows = lines(out / "train" / "fr_an_consultation.jsonl")
    assert [(r["body"][:10], r["thread"], r["language"]) for r in an_rows] == [
        ("Publier le", "égalité au travail", "fr"), ("Plus d'exp", "médias", "fr")]
    assert [(r["body"], r["language"]) for r in lines(out / "eval" / "ucc_globe_and_mail.jsonl")] == [
        ("Harper's budget was a mess, and here's why.", "en"), ("What a ridiculous take.", "en")]
    decidim_rows = lines(out / "eval" / "fr_decidim_grand_debat.jsonl")
    assert [(r["site"], r["thread"]) for r in decidim_rows] == [
        ("participation.lillemetropole.fr", "Decidim::Debates::Debate-23"),
        ("decidim", "Decidim::Proposals::Proposal-8"), ("decidim-propositions", "proposal-40")]

    rows = read_labelled(out / "train" / "fr_an_consultation.jsonl")
    assert [(row.label, row.language, row.group, row.thread) for row in rows.rows] == [
        (0, "fr", "fr_an_consultation", "égalité au travail"), (0, "fr", "fr_an_consultation", "médias")]


def test_the_same_raw_files_give_the_same_bytes(tmp_path):
    civil = write_csv(tmp_path / "comments.csv", ["comment_id", "comment_text"],
                      [[str(n), f"comment number {n}"] for n in range(10)])
    script = load_script()
    script.main(["--out", str(tmp_path / "a"), "--civil-comments", str(civil)])
    script.main(["--out", str(tmp_path / "b"), "--civil-comments", str(civil)])
    first = (tmp_path / "a" / "train" / "civil_comments.jsonl").read_bytes()
    assert first == (tmp_path / "b" / "train" / "civil_comments.jsonl").read_bytes()
    assert len(first.splitlines()) == 10
