"""`review --format json` writes the fleet's reviews straight to text (`output.reviews_json`): the
very text `json.dumps` makes of their `review_record`s, byte for byte, whatever the names hold."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from imtui import output
from imtui.domain.headroom import LIMIT, QUOTA, Review, Suggestion, Use
from imtui.services.review import AppReview

TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(['a"b\\c', "\n\t\x00\x1f\x7f", "é漢🙂", ""])
COUNT = st.integers(0, 10**12)
USES = st.builds(
    Use,
    st.sampled_from(["live_groups", "dau", "groups"]),
    st.sampled_from([LIMIT, QUOTA]),
    COUNT,
    st.integers(1, 10**6),
)
SUGGESTIONS = st.builds(
    Suggestion,
    TEXT,
    st.none() | COUNT,
    st.none() | COUNT,
    st.decimals(-(10**6), 10**6, places=2, allow_nan=False),
    TEXT,
    st.none() | st.sampled_from(["2026-12-01", "2027-01-01"]),
)


@st.composite
def reviews(draw):
    uses = tuple(draw(st.lists(USES, max_size=5)))
    head = draw(st.sampled_from(uses)) if uses and draw(st.booleans()) else None
    review = Review(head, uses, tuple(draw(st.lists(SUGGESTIONS, max_size=3))), draw(st.none() | TEXT))
    return AppReview(draw(st.integers(1, 2**40)), draw(TEXT), draw(TEXT), draw(TEXT), review)


@settings(max_examples=60, deadline=None)
@given(st.lists(reviews(), min_size=1, max_size=8))
def test_reviews_json_is_json_dumps_of_the_records(apps):
    for fleet in (apps, apps * (51 // len(apps) + 1)):  # to_json indents up to 50 records
        assert_same(output.reviews_json(fleet), output.to_json([output.review_record(app) for app in fleet]))


def test_a_use_outside_the_uses_and_repeated_uses():
    use = Use("dau", QUOTA, 20_030, 10_000)
    other = Use("groups", QUOTA, 1, 100_000)
    lowering = Suggestion("live_groups", None, 50, Decimal("-449.99"), "peak 14 fits 50", None)
    apps = [AppReview(i, f"app-{i}", "acme", "pro", Review(use, (other, use), (lowering,), None)) for i in range(60)]
    apps.append(AppReview(99, "x", "acme", "pro", Review(other, (use,), (), "not enough usage data")))
    assert_same(output.reviews_json(apps), output.to_json([output.review_record(app) for app in apps]))


def assert_same(got: str, expected: str) -> None:
    """Equal texts; else where they part (pytest's own diff of two long texts takes minutes)."""
    same = got == expected
    at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    assert same, f"differs at {at}: {got[max(at - 40, 0) : at + 40]!r} != {expected[max(at - 40, 0) : at + 40]!r}"
