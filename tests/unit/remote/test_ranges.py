"""Coalescing ranges into requests: within the byte budget first, then gaps cheaper than a request past the cap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsi_conform.remote.ranges import MAX_REQUESTS, coalesce


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


def test_past_the_cap_only_gaps_cheaper_than_a_request_are_merged() -> None:
    ranges = [(i * 1000, i * 1000 + 1) for i in range(100)]  # gaps of 999 bytes
    requests, owner = _plan(ranges, max_gap=4096, max_requests=10, request_cost=999)
    assert len(requests) <= 10
    assert all(requests[o][0] <= a and b <= requests[o][1] for (a, b), o in zip(ranges, owner, strict=True))
    requests, _ = _plan(ranges, max_gap=4096, max_requests=10, request_cost=998)
    assert len(requests) == 100 - 4  # only the byte budget's merges: 4096 + 10 bytes hold four gaps


def test_a_gap_larger_than_the_fixed_budget_is_never_merged() -> None:
    ranges = [(i * 1000, i * 1000 + 1) for i in range(100)]
    requests, _ = _plan(ranges, max_gap=998, max_requests=10, request_cost=1 << 20)
    assert len(requests) == 100


def _strided(runs: int, run: int, stride: int) -> tuple[list[tuple[int, int]], int]:
    starts = np.arange(runs, dtype=np.int64) * stride + 4096
    plan = coalesce(starts, starts + run)
    return plan.requests, runs * run


def test_a_bil_band_of_a_1_gib_cube_is_a_request_per_line_and_exactly_its_bytes() -> None:
    # 1024 lines x 1024 samples x 512 bands of uint16: a band is 1024 runs of 2 KiB, 1 MiB apart.
    requests, useful = _strided(1024, 2048, 512 * 2048)
    assert len(requests) == 1024 and sum(b - a for a, b in requests) == useful


def test_a_bip_band_merges_its_small_gaps_down_to_the_cap_and_reads_at_most_its_span() -> None:
    # 1024 x 1024 pixels of 512 bands of uint16: a band is 2**20 runs of 2 bytes, 1 KiB apart.
    requests, _ = _strided(1 << 20, 2, 1024)
    assert len(requests) <= MAX_REQUESTS
    assert sum(b - a for a, b in requests) <= (1 << 20) * 1024


def test_a_spectrum_far_apart_per_band_stays_a_request_per_band() -> None:
    requests, useful = _strided(512, 2, 1 << 21)  # a BSQ spectrum: one value per 2 MiB band
    assert len(requests) == 512 and sum(b - a for a, b in requests) == useful


def test_no_ranges_no_requests() -> None:
    assert _plan([]) == ([], [])


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 500)), min_size=1, max_size=60),
       st.integers(0, 2000), st.integers(1, 20), st.integers(0, 3000))
def test_every_range_lies_in_its_request_and_the_budget_holds(pairs: list[tuple[int, int]], gap: int, cap: int,
                                                              cost: int) -> None:
    ranges = [(a, a + n) for a, n in pairs]
    requests, owner = _plan(ranges, max_gap=gap, max_requests=cap, request_cost=cost)
    assert requests == sorted(requests) and all(b <= c for (_, b), (c, _) in itertools.pairwise(requests))
    for (a, b), o in zip(ranges, owner, strict=True):
        assert requests[o][0] <= a and b <= requests[o][1]
    covered = sum(b - a for a, b in requests)
    union = len(set().union(*(range(a, b) for a, b in ranges)))
    useful = sum(b - a for a, b in ranges)
    runs = len(_plan(ranges, max_gap=0, max_requests=len(ranges) + 1)[0])
    cheap = min(cost, gap)
    assert covered - union <= useful // 10 + gap + cheap * max(0, runs - cap)
    if len(requests) > cap:  # past the cap, no gap a request is worth more than is left
        assert all(c - b > cheap for (_, b), (c, _) in itertools.pairwise(requests))


@pytest.mark.parametrize("n", [1, 2, 1000])
def test_owner_indexes_input_order(n: int) -> None:
    ranges = [((n - i) * 10_000, (n - i) * 10_000 + 5) for i in range(n)]
    requests, owner = _plan(ranges, max_gap=0, max_requests=10_000)
    assert [requests[o][0] for o in owner] == [a for a, _ in ranges]
