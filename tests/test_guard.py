"""Cheap checks before scoring: honeypot, rates, duplicates, IP truncation."""
import pytest

from moderation.domain import ClientInfo, CommentIn, RateLimitExceeded, Reason, RecentActivity, ThreadIn
from moderation.guard import GuardPolicy, body_fingerprint, ip_prefix, judge

NOW = 1_800_000_000.0


def comment(honeypot="", ip="203.0.113.7"):
    return CommentIn(thread=ThreadIn("t"), author_name="A", author_email="a@example.org",
                     body="Bonjour", client=ClientInfo(ip=ip), honeypot=honeypot)


@pytest.mark.parametrize("ip, prefix", [
    ("203.0.113.7", "203.0.113.0/24"),
    ("198.51.100.255", "198.51.100.0/24"),
    ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
    ("::ffff:203.0.113.9", "203.0.113.0/24"),
    ("", ""),
])
def test_ip_prefix_keeps_only_the_network(ip, prefix):
    assert ip_prefix(ip) == prefix


def test_honeypot_gives_its_reason_and_can_be_switched_off():
    assert judge(comment("http://spam"), RecentActivity(), GuardPolicy(), NOW) == (Reason.HONEYPOT,)
    assert judge(comment("http://spam"), RecentActivity(), GuardPolicy(honeypot_check=False), NOW) == ()


def test_rate_per_ip_prefix_refuses_with_retry_after():
    recent = RecentActivity(ip_count=10, ip_oldest_at=NOW - 45)
    with pytest.raises(RateLimitExceeded) as raised:
        judge(comment(), recent, GuardPolicy(rate_limit_per_ip=10), NOW)
    assert raised.value.retry_after == 15


def test_rate_per_email_refuses():
    recent = RecentActivity(email_count=5, email_oldest_at=NOW - 59.5)
    with pytest.raises(RateLimitExceeded) as raised:
        judge(comment(), recent, GuardPolicy(rate_limit_per_email=5), NOW)
    assert raised.value.retry_after == 1


def test_zero_switches_rate_checks_off():
    recent = RecentActivity(ip_count=1000, ip_oldest_at=NOW, email_count=1000, email_oldest_at=NOW)
    assert judge(comment(), recent, GuardPolicy(rate_limit_per_ip=0, rate_limit_per_email=0), NOW) == ()


def test_below_the_limit_passes():
    recent = RecentActivity(ip_count=9, ip_oldest_at=NOW - 1, email_count=4, email_oldest_at=NOW - 1)
    assert judge(comment(), recent, GuardPolicy(), NOW) == ()


def test_duplicate_reason_and_switch():
    recent = RecentActivity(duplicate=True)
    assert judge(comment(), recent, GuardPolicy(), NOW) == (Reason.DUPLICATE,)
    assert judge(comment(), recent, GuardPolicy(duplicate_window_seconds=0), NOW) == ()


def test_body_fingerprint_folds_case_and_spacing():
    assert body_fingerprint("Super  article !\n") == body_fingerprint("super article !")
    assert body_fingerprint("Super article") != body_fingerprint("Super articles")
