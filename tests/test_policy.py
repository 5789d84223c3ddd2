"""The decision table: bands, out-of-distribution input, site modes, guard reasons."""
import pytest

from moderation.domain import Mode, Reason, Site, Status
from moderation.policy import Bands, Scored, decide, site_bands

BANDS = Bands(approve_below=0.2, reject_above=0.9)
AUTO = Site(id=1, name="blog", url="https://blog.example", lang="en", mode=Mode.AUTO)
PRE = Site(id=2, name="journal", url="https://journal.example", lang="fr", mode=Mode.PRE)


def scored(score, **kw):
    return Scored(language=kw.pop("language", "en"), score=score, model_version="v1",
                  bands=kw.pop("bands", BANDS), **kw)


@pytest.mark.parametrize("score, status, reason", [
    (0.0, Status.PUBLISHED, Reason.MODEL_HAM),
    (0.1999, Status.PUBLISHED, Reason.MODEL_HAM),
    (0.2, Status.PENDING, Reason.MODEL_UNCERTAIN),
    (0.8999, Status.PENDING, Reason.MODEL_UNCERTAIN),
    (0.9, Status.SPAM, Reason.MODEL_SPAM),
    (1.0, Status.SPAM, Reason.MODEL_SPAM),
])
def test_three_bands_on_an_auto_site(score, status, reason):
    decision = decide(AUTO, scored(score))
    assert decision.status is status
    assert decision.reasons[-1] is reason


def test_pre_site_never_auto_publishes_clear_ham():
    decision = decide(PRE, scored(0.01))
    assert decision.status is Status.PENDING
    assert decision.reasons == (Reason.MODEL_HAM, Reason.PRE_MODERATION)


def test_pre_site_still_holds_clear_spam():
    assert decide(PRE, scored(0.99)).status is Status.SPAM


@pytest.mark.parametrize("result, reason", [
    (Scored(language="en", score=None, model_version=None), Reason.NO_MODEL),
    (scored(0.01, text_empty=True), Reason.EMPTY_TEXT),
    (scored(0.01, language="de", language_supported=False), Reason.LANGUAGE_UNSUPPORTED),
    (scored(0.99, language="de", language_supported=False), Reason.LANGUAGE_UNSUPPORTED),
])
def test_input_the_model_cannot_judge_goes_to_review(result, reason):
    decision = decide(AUTO, result)
    assert decision.status is Status.PENDING
    assert decision.reasons == (reason,)


def test_honeypot_is_spam_whatever_the_score():
    decision = decide(AUTO, scored(0.0), (Reason.HONEYPOT,))
    assert decision.status is Status.SPAM
    assert Reason.HONEYPOT in decision.reasons


def test_duplicate_is_never_auto_published_but_spam_stays_spam():
    assert decide(AUTO, scored(0.0), (Reason.DUPLICATE,)).status is Status.PENDING
    assert decide(AUTO, scored(0.95), (Reason.DUPLICATE,)).status is Status.SPAM


def test_site_overrides_the_model_thresholds():
    strict = Site(id=3, name="s", url="https://s.example", lang="en", mode=Mode.AUTO,
                  approve_below=0.05, reject_above=0.5)
    assert site_bands(strict, BANDS) == Bands(0.05, 0.5)
    assert decide(strict, scored(0.1)).status is Status.PENDING
    assert decide(strict, scored(0.6)).status is Status.SPAM
    half = Site(id=4, name="h", url="https://h.example", lang="en", mode=Mode.AUTO, reject_above=0.7)
    assert site_bands(half, BANDS) == Bands(0.2, 0.7)


@pytest.mark.parametrize("score, band", [(0.01, Reason.MODEL_HAM), (0.95, Reason.MODEL_SPAM)])
def test_a_draw_below_the_audit_share_sends_an_automatic_decision_to_review(score, band):
    decision = decide(AUTO, scored(score), audit_draw=0.049, audit_share=0.05)
    assert decision.status is Status.PENDING
    assert decision.reasons == (band, Reason.AUDIT)        # the model's band stays readable
    assert decide(AUTO, scored(score), audit_draw=0.05, audit_share=0.05) == decide(AUTO, scored(score))
    assert decide(AUTO, scored(score), audit_draw=0.0, audit_share=0.0) == decide(AUTO, scored(score))
    assert decide(AUTO, scored(score), audit_draw=None, audit_share=1.0) == decide(AUTO, scored(score))


@pytest.mark.parametrize("site, result, guard", [
    (PRE, scored(0.01), ()),                                            # pre-moderation: pending
    (AUTO, scored(0.5), ()),                                            # borderline: pending
    (AUTO, scored(0.01), (Reason.DUPLICATE,)),                          # pending already
    (AUTO, scored(0.01), (Reason.HONEYPOT,)),                           # spam, but not the model's
    (AUTO, scored(0.01, language="de", language_supported=False), ()),
    (AUTO, Scored(language="en", score=None, model_version=None), ()),
])
def test_only_the_models_own_decisions_are_audited(site, result, guard):
    assert decide(site, result, guard, audit_draw=0.0, audit_share=1.0) == decide(site, result, guard)
    assert Reason.AUDIT not in decide(site, result, guard, audit_draw=0.0, audit_share=1.0).reasons
