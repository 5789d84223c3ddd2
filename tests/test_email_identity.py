"""One identity per e-mail address (domain.canonical_email)."""
import pytest

from moderation.domain import canonical_email


@pytest.mark.parametrize("spelling, canonical", [
    ("Casey@Example.org", "casey@example.org"),
    ("  CASEY@EXAMPLE.ORG ", "casey@example.org"),
    ("ÉLODIE@exämple.fr", "élodie@xn--exmple-cua.fr"),
    ("élodie@XN--EXMPLE-CUA.FR", "élodie@xn--exmple-cua.fr"),
    ("ｃasey@example.org", "casey@example.org"),            # full-width letters: NFKC
    ("Straße@example.de", "strasse@example.de"),             # case folding, not lower()
    ("first.last+news@example.org", "first.last+news@example.org"),   # dots and tags kept
    ("", ""),
    ("no-at-sign", "no-at-sign"),
])
def test_spellings_of_one_address_are_one_identity(spelling, canonical):
    assert canonical_email(spelling) == canonical


def test_a_domain_idna_refuses_is_still_folded():
    assert canonical_email("a@Bad_Domain.example") == "a@bad_domain.example"
