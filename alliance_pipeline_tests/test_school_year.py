"""The school year value type (alliance_pipeline/school_year.py): hand-checked values and its rules in general."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_pipeline.school_year import (
    SchoolYear,
    consecutive,
    previous_year,
    sort_years,
    span,
    start_of,
    starts_of,
    year_label,
)


def test_school_years_read_and_write_as_edsight_writes_them():
    year = SchoolYear.parse("2014-15")
    assert (year.start, str(year), year.fiscal_year) == (2014, "2014-15", 2015)
    assert (str(year.previous), str(year.next)) == ("2013-14", "2015-16")
    assert str(SchoolYear.parse("1999-00").next) == "2000-01"  # the century turns
    assert str(SchoolYear.of_fiscal(2023)) == "2022-23"  # FY2023 is the school year ending 30 June 2023
    assert year_label(2009) == "2009-10" and previous_year("2000-01") == "1999-00" and start_of("2025-26") == 2025
    assert span("2019-20", "2022-23") == ["2019-20", "2020-21", "2021-22", "2022-23"]
    assert sort_years(["2015-16", "2009-10", "2015-16", "2012-13"]) == ["2009-10", "2012-13", "2015-16"]
    assert starts_of(pd.Series(["2014-15", "2021-22"])).tolist() == [2014, 2021]
    assert consecutive(2014, 15) and consecutive(1999, 0) and not consecutive(2014, 16)


@pytest.mark.parametrize("text", ["2014-16", "2014/15", "14-15", "2014-15x", "", "FY2015"])
def test_text_that_is_not_a_school_year_is_refused_by_name(text):
    with pytest.raises(ValueError, match="is not a school year"):
        SchoolYear.parse(text)


@given(st.integers(min_value=1900, max_value=2200))
def test_a_school_year_survives_its_text_and_steps_back_and_forth(start):
    year = SchoolYear(start)
    assert SchoolYear.parse(str(year)) == year
    assert year.previous.next == year and year.previous < year < year.next
    assert SchoolYear.of_fiscal(year.fiscal_year) == year
    assert previous_year(str(year)) == str(year.previous)


@given(st.lists(st.integers(min_value=1990, max_value=2100), max_size=30))
def test_sorting_texts_sorts_the_years(starts):
    texts = [year_label(start) for start in starts]
    assert sort_years(texts) == [str(year) for year in sorted(set(map(SchoolYear, starts)))]
