"""Bulk award requests: the holdout share, who it keeps out, and fingerprints that stay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.campaigns import (
    BulkAwardPoints,
    Segment,
    held_out,
    holdout_bucket,
    holdout_percent,
)
from domain.errors import InvalidInput

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
IDS = tuple(f"customer-{n}" for n in range(10_000))


def listed(percent: int = 0) -> BulkAwardPoints:
    return BulkAwardPoints("k", ("c2", "c1"), 25, "promo", "SPRING", NOW, holdout_percent=percent)


def by_segment(percent: int = 0) -> BulkAwardPoints:
    segment = Segment(store_ids=frozenset({"S1"}))
    return BulkAwardPoints(
        "k", (), 25, "promo", None, NOW, segment=segment, holdout_percent=percent
    )


@pytest.mark.parametrize(
    ("command", "stored"),
    [
        (listed(), "e429e6b178c638e29c535cf73d17c3e30140dfb518b35ca4115474b17162b4be"),
        (by_segment(), "552b71d2a6ffdb4f2adf573d0f4a1608a0c40de196fc7fbf2b10f9e8dba50520"),
    ],
    ids=["ids", "segment"],
)
def test_a_request_without_holdout_keeps_the_fingerprint_earlier_releases_stored(
    command: BulkAwardPoints, stored: str
) -> None:
    assert command.fingerprint() == stored


def test_the_holdout_share_is_part_of_the_request() -> None:
    assert listed(10).fingerprint() == listed(10).fingerprint()
    assert len({listed(p).fingerprint() for p in (0, 10, 11)}) == 3
    assert len({by_segment(p).fingerprint() for p in (0, 10)}) == 2


@pytest.mark.parametrize(("given", "kept"), [(None, 0), (0, 0), (1, 1), (50, 50)])
def test_a_holdout_percent_from_0_to_50_is_taken(given: int | None, kept: int) -> None:
    assert holdout_percent(given) == kept


@pytest.mark.parametrize("given", [-1, 51, 100])
def test_a_holdout_percent_outside_0_to_50_is_refused_on_its_field(given: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        holdout_percent(given)
    assert refused.value.field == ("input", "holdoutPercent")


def test_who_is_held_out_depends_on_the_job_and_the_customer_only() -> None:
    first = held_out("job-1", IDS, 10)

    assert held_out("job-1", reversed(IDS), 10) == first
    assert held_out("job-2", IDS, 10) != first
    assert held_out("job-1", IDS[:100], 10) == first & set(IDS[:100])


@pytest.mark.parametrize("percent", [1, 10, 25, 50])
def test_about_the_share_asked_for_is_held_out(percent: int) -> None:
    share = len(held_out("job-1", IDS, percent)) / len(IDS)

    assert abs(share - percent / 100) < 0.02


def test_no_holdout_keeps_nobody_out_and_a_larger_one_keeps_the_smaller_ones_out() -> None:
    assert held_out("job-1", IDS, 0) == frozenset()
    assert held_out("job-1", IDS, 10) <= held_out("job-1", IDS, 20)


def test_the_bucket_is_the_first_32_bits_of_the_sha256_of_job_and_customer() -> None:
    # The same value PostgreSQL computes for the segment path (see persistence/campaigns.py).
    assert holdout_bucket("job", "cust") == 3969158789 % 10_000
