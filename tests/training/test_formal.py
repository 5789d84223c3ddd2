"""Machine-translated French turned from « tu » to « vous », as French readers write."""
from __future__ import annotations

import pytest

from moderation.training.formal import FORMAL_SHARE, addressed_formally, conjugate, to_vous


@pytest.mark.parametrize("familiar, formal", [
    ("Tu es bien.", "Vous êtes bien."),
    ("Je conviens avec toi.", "Je conviens avec vous."),
    ("Tu as vaincu un prix.", "Vous avez vaincu un prix."),
    ("Tu ne peux pas dire ça, tu le sais.", "Vous ne pouvez pas dire ça, vous le savez."),
    ("Tu n'as rien compris, tu penses que tu seras riche.",
     "Vous n'avez rien compris, vous pensez que vous serez riche."),
    ("Je t'aime et je te dis merci.", "Je vous aime et je vous dis merci."),
    ("As-tu lu ton article et tes notes ?", "Avez-vous lu votre article et vos notes ?"),
    ("Tu t'es trompé.", "Vous vous êtes trompé."),
    ("Si tu étais là, tu me dirais.", "Si vous étiez là, vous me diriez."),
    ("C'est le tien.", "C'est le vôtre."),
])
def test_the_familiar_second_person_becomes_formal(familiar, formal):
    assert to_vous(familiar) == formal


def test_what_is_not_the_second_person_is_left_alone():
    for text in ("Le ton de l'article est juste.", "Il a raison, nous avons tort.", "Tutoyer ? Non.",
                 "Vous avez raison."):
        assert to_vous(text) == text
    assert conjugate("mesquin") == "mesquin"          # not a verb it knows: unchanged


def test_about_half_the_translations_are_turned_formal_always_the_same_ones():
    sources = [f"comment number {i}" for i in range(2000)]
    chosen = [addressed_formally(source) for source in sources]
    assert abs(sum(chosen) / len(chosen) - FORMAL_SHARE) < 0.05
    assert chosen == [addressed_formally(source) for source in sources]
