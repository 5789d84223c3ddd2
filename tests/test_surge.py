"""Surge mode's pure rules (moderation.surge): the baseline, the threshold,
when a thread starts, keeps and leaves surging, and the stricter decisions."""
import pytest

from moderation.config import load_settings
from moderation.domain import Decision, Mode, Reason, Site, Status
from moderation.policy import Bands, Scored, decide
from moderation.review.explanations import surge_explanation
from moderation.domain import ThreadSurge
from moderation.surge import EXTEND, START, SurgeInput, SurgePolicy, baseline_from_counts, stricter

NOW = 1_700_000_000.0
POLICY = SurgePolicy(factor=5.0, window_seconds=600.0, min_comments=30, baseline_days=7.0,
                     baseline_min_windows=20, duration_seconds=1800.0)
BANDS = Bands(approve_below=0.2, reject_above=0.9)
AUTO = Site(id=1, name="blog", url="https://blog.example", lang="en", mode=Mode.AUTO)
PRE = Site(id=2, name="journal", url="https://journal.example", lang="fr", mode=Mode.PRE)


def scored(score, **kw):
    return Scored(language="en", score=score, model_version="v1", bands=BANDS, **kw)


# -- the baseline
def test_the_baseline_is_the_90th_percentile_of_busy_windows():
    # 100 windows: 80 with 1 comment, 10 with 3, 9 with 6, 1 with 400 (a past surge)
    histogram = {1: 80, 3: 10, 6: 9, 400: 1}
    assert baseline_from_counts(histogram, min_windows=20) == 3.0
    assert baseline_from_counts(histogram, min_windows=20, quantile=0.95) == 6.0
    # one past surge or scoop does not raise the bar: the maximum would be 400
    assert baseline_from_counts({**histogram, 400: 5}, min_windows=20) == 6.0


def test_no_baseline_without_enough_history():
    assert baseline_from_counts({}, min_windows=1) is None
    assert baseline_from_counts({2: 19}, min_windows=20) is None
    assert baseline_from_counts({2: 20}, min_windows=20) == 2.0
    assert baseline_from_counts({0: 50, 2: 0}, min_windows=1) is None   # empty windows never count


@pytest.mark.parametrize("baseline, threshold", [
    (None, 30),       # no baseline: the floor alone
    (1.0, 30),        # 5 x 1 is under the floor
    (6.0, 30),
    (6.2, 31),        # ceil(31.0)
    (12.0, 60),
])
def test_the_threshold_is_factor_times_baseline_never_under_the_floor(baseline, threshold):
    assert POLICY.threshold(baseline) == threshold


def test_the_baseline_leaves_the_current_window_out():
    since, until = POLICY.baseline_range(NOW)
    assert (since, until) == (NOW - 7 * 86400, NOW - 600)


# -- entering, staying, leaving
def test_a_thread_reaching_the_threshold_starts_a_surge():
    below = POLICY.assess(count=29, until=None, threshold=30, now=NOW)
    assert (below.active, below.action, below.until) == (False, None, None)
    step = POLICY.assess(count=30, until=None, threshold=30, now=NOW)
    assert (step.active, step.action, step.until) == (True, START, NOW + 1800)


def test_a_surge_lasts_its_time_even_when_the_rate_falls_then_ends_by_itself():
    until = NOW + 1800
    calm = POLICY.assess(count=3, until=until, threshold=30, now=NOW + 600)
    assert (calm.active, calm.action, calm.until) == (True, None, until)
    over = POLICY.assess(count=3, until=until, threshold=30, now=until)
    assert (over.active, over.action, over.until) == (False, None, None)
    # a surge recorded long ago is no surge
    assert POLICY.assess(count=3, until=NOW - 1, threshold=30, now=NOW).active is False


def test_a_surge_still_at_the_threshold_is_pushed_back_a_tenth_at_a_time():
    until = NOW + 1800
    soon = POLICY.assess(count=40, until=until, threshold=30, now=NOW + 100)
    assert (soon.active, soon.action, soon.until) == (True, None, until)   # moves it by 100 s < 180 s
    later = POLICY.assess(count=40, until=until, threshold=30, now=NOW + 180)
    assert (later.active, later.action, later.until) == (True, EXTEND, NOW + 180 + 1800)
    # the same rate after the end starts a new one
    again = POLICY.assess(count=40, until=until, threshold=30, now=until + 1)
    assert (again.action, again.until) == (START, until + 1 + 1800)


def test_surge_mode_off():
    off = SurgePolicy(factor=0.0)
    assert off.enabled is False
    assert off.assess(count=10_000, until=None, threshold=1, now=NOW).active is False


def test_the_policy_reads_its_settings():
    settings = load_settings({"MODERATION_SURGE_FACTOR": "3", "MODERATION_SURGE_WINDOW_SECONDS": "300",
                              "MODERATION_SURGE_MIN_COMMENTS": "12", "MODERATION_SURGE_BASELINE_DAYS": "2",
                              "MODERATION_SURGE_BASELINE_MIN_WINDOWS": "5",
                              "MODERATION_SURGE_SECONDS": "60"})
    assert SurgePolicy.from_settings(settings) == SurgePolicy(
        factor=3.0, window_seconds=300.0, min_comments=12, baseline_days=2.0, baseline_min_windows=5,
        duration_seconds=60.0)
    assert SurgePolicy.from_settings(load_settings({})) == POLICY


# -- the stricter decision
@pytest.mark.parametrize("score, trusted, status, reasons", [
    (0.01, True, Status.PUBLISHED, (Reason.MODEL_HAM,)),                    # known author, clear ham
    (0.01, False, Status.PENDING, (Reason.MODEL_HAM, Reason.SURGE)),         # new author
    (0.5, True, Status.PENDING, (Reason.MODEL_UNCERTAIN, Reason.SURGE)),     # the model is unsure
    (0.5, False, Status.PENDING, (Reason.MODEL_UNCERTAIN, Reason.SURGE)),
    (0.95, False, Status.SPAM, (Reason.MODEL_SPAM,)),                        # clear spam stays spam
    (0.95, True, Status.SPAM, (Reason.MODEL_SPAM,)),
])
def test_in_a_surge_only_clear_spam_and_known_authors_clear_ham_are_decided_alone(
        score, trusted, status, reasons):
    decision = decide(AUTO, scored(score), surge=SurgeInput(active=True, trusted_author=trusted))
    assert (decision.status, decision.reasons) == (status, reasons)


def test_no_surge_no_change():
    for score in (0.01, 0.5, 0.95):
        assert decide(AUTO, scored(score), surge=SurgeInput(active=False)) == decide(AUTO, scored(score))
        assert decide(AUTO, scored(score), surge=None) == decide(AUTO, scored(score))


def test_input_the_model_cannot_judge_and_honeypots_in_a_surge():
    unsure = decide(AUTO, scored(0.01, language_supported=False), surge=SurgeInput(True, True))
    assert unsure == Decision(Status.PENDING, (Reason.LANGUAGE_UNSUPPORTED, Reason.SURGE))
    trap = decide(AUTO, scored(0.01), (Reason.HONEYPOT,), surge=SurgeInput(True, False))
    assert trap == Decision(Status.SPAM, (Reason.HONEYPOT,))


def test_a_known_authors_ham_keeps_its_other_holds_and_a_pre_site_still_waits():
    duplicate = decide(AUTO, scored(0.01), (Reason.DUPLICATE,), surge=SurgeInput(True, True))
    assert duplicate == Decision(Status.PENDING, (Reason.DUPLICATE, Reason.MODEL_HAM))
    pre = decide(PRE, scored(0.01), surge=SurgeInput(True, False))
    assert pre == Decision(Status.PENDING, (Reason.MODEL_HAM, Reason.PRE_MODERATION, Reason.SURGE))


def test_a_comment_held_for_a_surge_is_not_drawn_for_the_audit():
    held = decide(AUTO, scored(0.01), audit_draw=0.0, audit_share=1.0, surge=SurgeInput(True, False))
    assert held == Decision(Status.PENDING, (Reason.MODEL_HAM, Reason.SURGE))
    known = decide(AUTO, scored(0.01), audit_draw=0.0, audit_share=1.0, surge=SurgeInput(True, True))
    assert known == Decision(Status.PENDING, (Reason.MODEL_HAM, Reason.AUDIT))


def test_stricter_alone():
    ham = Decision(Status.PUBLISHED, (Reason.MODEL_HAM,))
    assert stricter(ham, True) is ham
    assert stricter(ham, False) == Decision(Status.PENDING, (Reason.MODEL_HAM, Reason.SURGE))


# -- the explanation, in both languages
def surge(**kw):
    values = dict(id=1, site_id=1, thread_id="a", started_at=NOW, until=NOW + 1800, ended_at=None,
                  comments=42, threshold=30, baseline=6.0, window_seconds=600.0)
    values.update(kw)
    return ThreadSurge(**values)


def test_the_explanation_says_the_figures_and_until_when_in_french_and_english():
    text = surge_explanation(surge(), now=NOW + 60)
    assert text["reason"] == "surge"
    assert text["text"]["en"] == (
        "Surge on this thread: 42 comments in 10 min (the site's busy threads usually get 6; "
        "threshold 30). Until 2023-11-14 22:43 UTC, comments the model is unsure of and comments "
        "from authors with no published comment on the site wait for a moderator.")
    assert text["text"]["fr"] == (
        "Afflux sur ce fil : 42 commentaires en 10 min (les fils animés du site en reçoivent "
        "d'habitude 6 ; seuil 30). Jusqu'à 2023-11-14 22:43 UTC, les commentaires dont le modèle "
        "n'est pas sûr et ceux des auteurs sans commentaire publié sur le site attendent un "
        "modérateur.")


def test_the_explanation_of_an_ended_surge_and_of_one_without_baseline():
    over = surge_explanation(surge(baseline=None, window_seconds=45.0), now=NOW + 4000)["text"]
    assert over["en"].startswith("Surge on this thread from 2023-11-14 22:13 to 2023-11-14 22:43 UTC: "
                                 "42 comments in 45 s (threshold 30; the site had too little history")
    assert "waited for a moderator" in over["en"]
    assert over["fr"].startswith("Afflux sur ce fil du 2023-11-14 22:13 au 2023-11-14 22:43 UTC : "
                                 "42 commentaires en 45 s (seuil 30 ; le site n'avait pas encore")
    unknown = surge_explanation(None, now=NOW)["text"]
    assert unknown["fr"].startswith("Ce fil était en afflux") and unknown["en"].startswith("This thread")
