"""The rank-integrity rule of the suites (``meta.rank_columns``), checked against a brute-force reading of it."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.validation import rank_problem


def brute_force(frame: pd.DataFrame, by: str | None) -> list[tuple[int, int]]:
    """(source_row, rank) of every row whose rank is not 1 + the number of larger values in its group."""
    ranked = frame[frame["rank"].notna()]
    bad = []
    for _, group in (ranked.groupby(by) if by else [(None, ranked)]):
        for _, row in group.iterrows():
            expected = 1 + int((group["value"].astype(float) > float(row["value"])).sum())
            if int(row["rank"]) != expected:
                bad.append((int(row["source_row"]), int(row["rank"])))
    return bad


def test_a_gap_that_is_not_after_a_tie_is_reported_with_its_row():
    frame = pd.DataFrame({"source_row": [7, 8, 9, 10], "subject": ["Math"] * 4, "value": [3.0, 2.0, 2.0, 1.0],
                          "rank": [1, 2, 2, 3]})  # the last must be 4 (two share rank 2)
    problem = rank_problem(frame, "rank", "value", "subject")
    assert problem.unexpected_count == 1 and problem.element_count == 4
    assert problem.samples == ({"source_row": 10, "value": 3, "key": "subject=Math"},)
    frame.loc[3, "rank"] = 4
    assert rank_problem(frame, "rank", "value", "subject") is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ELA", "Math"]), st.integers(0, 5), st.one_of(st.none(), st.integers(1, 8))),
                min_size=1, max_size=30),
       st.sampled_from([None, "subject", ["year", "subject"]]))
def test_rank_rule_matches_its_brute_force_reading(rows, by):
    frame = pd.DataFrame(rows, columns=["subject", "value", "rank"])
    frame["value"] = frame["value"].astype(float)
    frame["rank"] = frame["rank"].astype("Int64")
    frame.insert(0, "source_row", range(5, 5 + len(frame)))
    frame["year"] = ["2015-16" if i % 3 else "2016-17" for i in range(len(frame))]
    expected = brute_force(frame, by)
    problem = rank_problem(frame, "rank", "value", by)
    if not expected:
        assert problem is None
    else:
        assert problem.unexpected_count == len(expected)
        assert [(s["source_row"], s["value"]) for s in problem.samples] == expected[:5]
