"""Section 6: each CSDE step on small frames, and the rule's guarantees on the real inputs."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.methods.alliance_identification import (
    alliance_identification,
    opportunity_districts,
    organization_type,
)
from alliance_pipeline.reference import load_cohort

DISTRICTS = [  # code, name, enrollment (None = suppressed), index
    ("0010011", "Local Low", 5000, 50.0),
    ("0020011", "Local Edge", 1000, 52.0),  # exactly 1,000 students: kept
    ("0030011", "Local Small", 999, 40.0),
    ("0040011", "Local Suppressed", None, 41.0),
    ("2050012", "Regional Low", 2000, 53.0),
    ("2790013", "Charter", 1200, 30.0),
    ("2410014", "RESC", 3000, 31.0),
    ("3370015", "Unified", 1500, 32.0),
    ("9000016", "Technical High Schools", 10000, 33.0),
    ("4010022", "Endowed Academy", 2200, 34.0),
    ("0060011", "Tie A", 4000, 60.0),
    ("0070011", "Tie B", 4000, 60.0),
    ("0080011", "Local High", 4000, 90.0),
    ("0090011", "Prior Designee High", 4000, 95.0),
]


def inputs():
    enrollment = pd.DataFrame([{"district_code": c, "district_name": n, "student_count": e, "is_aggregate": False}
                               for c, n, e, _ in DISTRICTS] + [{"district_code": "0000000", "district_name": "Total",
                                                                 "student_count": 99999, "is_aggregate": True}])
    enrollment["student_count"] = enrollment["student_count"].astype("Int64")
    index = pd.DataFrame([{"district_code": c, "district_name": n, "outcome_rate_pct": i, "is_aggregate": False}
                          for c, n, _, i in DISTRICTS])
    roster = pd.DataFrame([
        {"district_code": "0090011", "district_name": "Prior Designee High", "first_year": "2012-13", "last_year": "2016-17"},
        {"district_code": "0010011", "district_name": "Local Low", "first_year": "2012-13", "last_year": "2016-17"},
        {"district_code": "0770011", "district_name": "Designated Long Ago", "first_year": "2005-06", "last_year": "2008-09"},
    ])
    return enrollment, index, roster


def run(lowest_n=4):
    enrollment, index, roster = inputs()
    return alliance_identification(enrollment, index, roster, lowest_n=lowest_n).set_index("district_code")


def test_step_1_excludes_every_other_organization_type_with_its_reason():
    result = run()
    for code, kind in [("2790013", "public charter"), ("2410014", "regional educational service center"),
                       ("3370015", "state agency / unified school district"), ("9000016", "technical high school system"),
                       ("4010022", "endowed academy")]:
        assert not result.loc[code, "step1_kept"] and not result.loc[code, "designated"]
        assert result.loc[code, "step1_reason"] == f"{kind}: excluded by step 1"
    assert result.loc["2050012", "step1_kept"] and organization_type("2050012") == "regional district"
    assert "0000000" not in result.index


def test_step_2_threshold_is_inclusive_and_suppressed_enrollment_is_unknown():
    result = run()
    assert result.loc["0020011", "step2_kept"] and result.loc["0020011", "step2_reason"] == "1,000 students >= 1,000 in 2015-16"
    assert not result.loc["0030011", "step2_kept"]
    suppressed = result.loc["0040011"]
    assert suppressed["enrollment_suppressed"] and pd.isna(suppressed["enrollment"])
    assert not suppressed["step2_kept"] and "suppressed" in suppressed["step2_reason"] and "unknown" in suppressed["step2_reason"]


def test_step_3_takes_the_lowest_n_and_every_tie_at_the_cut_off():
    result = run(lowest_n=4)
    selected = set(result.index[result["step3_selected"]])
    # eligible: 0010011 (50), 0020011 (52), 2050012 (53), 0060011 and 0070011 tied at 60 for 4th
    assert selected == {"0010011", "0020011", "2050012", "0060011", "0070011"}
    assert result.loc["0060011", "index_rank"] == result.loc["0070011", "index_rank"] == 4
    assert "tied at the cut-off" in result.loc["0070011", "step3_reason"]
    assert not result.loc["0080011", "step3_selected"] and "above the 4 lowest" in result.loc["0080011", "step3_reason"]


def test_step_4_adds_prior_designees_only_from_the_prior_period():
    result = run()
    assert result.loc["0090011", "step4_added"] and result.loc["0090011", "admitted_by"] == "step 4"
    assert not result.loc["0010011", "step4_added"] and result.loc["0010011", "admitted_by"] == "steps 1-3"
    assert "already selected by step 3" in result.loc["0010011", "step4_reason"]
    assert "0770011" in result.index and not result.loc["0770011", "designated"]  # designated before 2012-13 only
    assert int(result["designated"].sum()) == 6


def test_opportunity_districts_are_the_lowest_designated():
    enrollment, index, roster = inputs()
    frame = alliance_identification(enrollment, index, roster, lowest_n=4)
    chosen = opportunity_districts(frame, count=2)
    assert chosen["district_code"].tolist() == ["0010011", "0020011"]
    assert chosen["opportunity_rank"].tolist() == [1, 2]
    assert set(chosen["index_year"]) == {"2015-16"}


def test_opportunity_districts_ranked_on_another_years_index():
    """The designation's districts, ranked on a later year's index: 0020011 (now 5.0) comes first, 0010011 (now 40.0)
    second, the other designated districts (50.0) drop out, and a district not designated is never added however low
    its index (0080011, 1.0)."""
    enrollment, index, roster = inputs()
    frame = alliance_identification(enrollment, index, roster, lowest_n=4)
    designated = set(frame.loc[frame["designated"], "district_code"])
    later = {code: 50.0 for code in designated} | {"0020011": 5.0, "0010011": 40.0, "0080011": 1.0}
    chosen = opportunity_districts(frame, count=2, index=later, index_year="2016-17")
    assert "0080011" not in designated
    assert chosen["district_code"].tolist()[0] == "0020011" and "0010011" in chosen["district_code"].tolist()
    assert chosen["accountability_index"].tolist() == [5.0, 40.0]
    assert set(chosen["index_year"]) == {"2016-17"}


@pytest.mark.real_exports
def test_identification_on_the_real_inputs_keeps_the_rules_guarantees(instance, env, shared_edsight):
    defs = env.source(shared_edsight)
    from alliance_pipeline.defs.operations.planner import register_years

    register_years(instance, defs.resources["edsight"])
    for asset, year in (("raw_enrollment", "2015-16"), ("raw_accountability", "2015-16")):
        done = dg.materialize(list(defs.assets), selection=dg.AssetSelection.assets(asset), partition_key=year,
                              instance=instance, resources=dict(defs.resources))
        assert done.success
    done = dg.materialize(list(defs.assets),
                          selection=dg.AssetSelection.assets("alliance_cohort", "alliance_identification", "opportunity_districts"),
                          instance=instance, resources=dict(defs.resources))
    assert done.success
    result = read_parquet(env.warehouse_dir / "alliance_identification.parquet")
    designated = result[result["designated"]]
    assert designated["district_code"].str[-2:].isin(["11", "12"]).all()
    assert int(result["step3_selected"].sum()) >= 30
    prior = set(load_cohort()["district_code"])
    assert prior <= set(designated["district_code"])
    assert len(designated) == 30 + len(prior - set(result.loc[result["step3_selected"], "district_code"]))
    assert result["enrollment_suppressed"].sum() >= 1  # the real export suppresses two districts' counts
    opportunity = read_parquet(env.warehouse_dir / "opportunity_districts.parquet")
    assert len(opportunity) == 10 and set(opportunity["district_code"]) <= set(designated["district_code"])
