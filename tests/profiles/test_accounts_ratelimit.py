"""bzpeer.lib.ratelimit: windows, limits, parsing and the 429 answer."""

import pytest
from django.test import RequestFactory

from bzpeer.lib import ratelimit
from bzpeer.lib.ratelimit import Rate


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/m", Rate(30, 60)),
        ("5/10m", Rate(5, 600)),
        ("10/d", Rate(10, 86400)),
        ("1/s", Rate(1, 1)),
    ],
)
def test_rates_parse(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "30", "30/x", "0/m", "a/m", "5/-1m"])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_the_limit_allows_exactly_n_hits_per_window_and_per_person():
    start = 1_000_000.0
    outcomes = [ratelimit.hit("t", "a", "3/m", now=start + i) for i in range(4)]
    assert [o.allowed for o in outcomes] == [True, True, True, False]
    assert [o.count for o in outcomes] == [1, 2, 3, 4]
    assert ratelimit.hit("t", "b", "3/m", now=start).allowed
    assert ratelimit.hit("other", "a", "3/m", now=start).allowed


def test_a_new_window_starts_afresh_and_retry_after_says_when():
    start = 1_000_020.0  # 20 s into a minute window (1_000_020 // 60 * 60 = 999_960 + 60)
    for _ in range(3):
        ratelimit.hit("t", "a", "3/m", now=start)
    blocked = ratelimit.hit("t", "a", "3/m", now=start)
    assert (blocked.allowed, blocked.retry_after) == (False, 60 - (1_000_020 % 60))
    assert ratelimit.hit("t", "a", "3/m", now=start + 60).allowed


def test_reset_clears_the_current_window():
    for _ in range(3):
        ratelimit.hit("t", "a", "3/m", now=500.0)
    ratelimit.reset("t", "a", "3/m", now=500.0)
    assert ratelimit.hit("t", "a", "3/m", now=500.0).count == 1


@pytest.mark.django_db
def test_the_decorator_answers_429_with_retry_after_past_the_limit(one_ratelimit_window):
    calls = []

    @ratelimit.ratelimit("message", "2/m")
    def view(request):
        from django.http import HttpResponse

        calls.append(1)
        return HttpResponse("ok")

    factory = RequestFactory()
    from django.contrib.auth.models import AnonymousUser

    responses = []
    for _ in range(3):
        request = factory.post("/x/", REMOTE_ADDR="10.0.0.1")
        request.user = AnonymousUser()
        request.htmx = False
        responses.append(view(request))
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert len(calls) == 2
    last = responses[-1]
    last.render()
    assert "sending messages very quickly" in last.content.decode()
    assert 1 <= int(last["Retry-After"]) <= 60
    # GETs are never counted.
    request = factory.get("/x/", REMOTE_ADDR="10.0.0.1")
    request.user = AnonymousUser()
    assert view(request).status_code == 200
