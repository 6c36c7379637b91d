"""Freshness: after the annual refresh date, each family CSDE still publishes should hold last spring's year.

``expected_newest_year`` is the rule (pure); ``newest_year_checks`` are WARN asset checks
on the raw assets, run by the ``check_freshness`` job that a daily schedule launches.
"""


from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from alliance_pipeline.defs.common.resources import RefreshPolicy
from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.edsight.reader import school_year_label

# Families CSDE still publishes every year (the CMT ended in 2012-13).
CURRENT_FAMILIES = [name for name in FAMILIES if name != "cmt_district"]


def expected_newest_year(today: date, release: tuple[int, int] = (10, 15)) -> str:
    """The newest school year that should be loaded on ``today``: the year whose spring tests were last
    published (results of spring Y appear by the release date of Y; before it, spring Y-1's)."""
    spring = today.year if (today.month, today.day) >= release else today.year - 1
    return school_year_label(spring - 1)


def _newest_year_check(family: str) -> dg.AssetChecksDefinition:
    asset = FAMILIES[family].asset_name

    @dg.asset_check(asset=asset, name="newest_year_is_current", blocking=False,
                    description=f"Warns when the newest school year of {asset} is older than the one CSDE has "
                    f"published by now (the refresh_policy resource's release_date, default 10-15).")
    def check(context, refresh_policy: RefreshPolicy) -> dg.AssetCheckResult:  # (a string annotation would not be recognised)
        years = sort_years(context.instance.get_dynamic_partitions(FAMILIES[family].partitions_name))
        expected = expected_newest_year(datetime.now(ZoneInfo("America/New_York")).date(), refresh_policy.release())
        newest = years[-1] if years else None
        current = newest is not None and int(newest[:4]) >= int(expected[:4])
        return dg.AssetCheckResult(
            passed=current, severity=dg.AssetCheckSeverity.WARN,
            description=(f"newest school year {newest} is current" if current else
                         f"newest school year is {newest or 'none'}; by now CSDE has usually published {expected}: "
                         "put its export in the source folder (the new-year sensor or the annual schedule loads it)"),
            metadata={"newest_year": newest or "", "expected_year": expected},
        )

    check.__name__ = f"{asset}_newest_year_is_current"
    return check


NEWEST_YEAR_CHECKS = [_newest_year_check(family) for family in CURRENT_FAMILIES]
