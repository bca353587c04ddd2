"""Coalescing ranges into requests: within the byte budget first, then under the request cap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsi_conform.remote.ranges import coalesce


def _plan(ranges: list[tuple[int, int]], **kw: int) -> tuple[list[tuple[int, int]], list[int]]:
    starts = np.array([a for a, _ in ranges], dtype=np.int64)
    stops = np.array([b for _, b in ranges], dtype=np.int64)
    plan = coalesce(starts, stops, **kw)
    return plan.requests, plan.owner.tolist()


def test_overlapping_and_touching_ranges_are_one_request() -> None:
    requests, owner = _plan([(10, 20), (0, 10), (15, 30), (30, 31)], max_gap=0)
    assert requests == [(0, 31)] and owner == [0, 0, 0, 0]


def test_far_ranges_stay_apart_and_near_ones_join() -> None:
    requests, owner = _plan([(0, 100), (150, 200), (10_000_000, 10_000_100)], max_gap=1000)
    assert requests == [(0, 200), (10_000_000, 10_000_100)] and owner == [0, 0, 1]


def test_the_smallest_gaps_are_merged_first_within_the_budget() -> None:
    # 10 ranges of 100 bytes: 1000 useful bytes, budget 100 + 50; the gaps of 40 are merged, the gap of 60 is not.
    ranges = [(i * 140, i * 140 + 100) for i in range(5)] + [(5 * 140 + 20 + i * 140, 5 * 140 + 120 + i * 140)
                                                             for i in range(5)]
    requests, _ = _plan(ranges, max_gap=50, max_requests=100)
    assert len(requests) == 10 - 3  # three gaps of 40 fit in 150 bytes


def test_the_request_cap_merges_whatever_it_costs() -> None:
    ranges = [(i * 1000, i * 1000 + 1) for i in range(100)]
    requests, owner = _plan(ranges, max_gap=0, max_requests=10)
    assert len(requests) <= 10
    assert all(requests[o][0] <= a and b <= requests[o][1] for (a, b), o in zip(ranges, owner, strict=True))


def test_no_ranges_no_requests() -> None:
    assert _plan([]) == ([], [])


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 500)), min_size=1, max_size=60),
       st.integers(0, 2000), st.integers(1, 20))
def test_every_range_lies_in_its_request_and_the_budget_holds(pairs: list[tuple[int, int]], gap: int,
                                                              cap: int) -> None:
    ranges = [(a, a + n) for a, n in pairs]
    requests, owner = _plan(ranges, max_gap=gap, max_requests=cap)
    assert requests == sorted(requests) and all(b <= c for (_, b), (c, _) in itertools.pairwise(requests))
    for (a, b), o in zip(ranges, owner, strict=True):
        assert requests[o][0] <= a and b <= requests[o][1]
    covered = sum(b - a for a, b in requests)
    union = len(set().union(*(range(a, b) for a, b in ranges)))
    useful = sum(b - a for a, b in ranges)
    if len(requests) < cap:  # the cap did not force merges: the byte budget holds
        assert covered - union <= useful // 10 + gap


@pytest.mark.parametrize("n", [1, 2, 1000])
def test_owner_indexes_input_order(n: int) -> None:
    ranges = [((n - i) * 10_000, (n - i) * 10_000 + 5) for i in range(n)]
    requests, owner = _plan(ranges, max_gap=0, max_requests=10_000)
    assert [requests[o][0] for o in owner] == [a for a, _ in ranges]
