"""Freshness: after the annual refresh date, each family CSDE still publishes should hold last spring's year.

``expected_newest_year`` is the rule (pure); ``newest_year_checks`` are WARN asset checks
on the raw assets, run by the ``check_freshness`` job that a daily schedule launches.
"""


from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from alliance_pipeline.archive import REJECTED, list_versions
from alliance_pipeline.defs.common.resources import EdSightSource, RefreshPolicy
from alliance_pipeline.edsight.sources import SourceError
from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.edsight.reader import school_year_label

# Families CSDE still publishes every year (the CMT ended in 2012-13).
CURRENT_FAMILIES = [name for name in FAMILIES if name != "cmt_district"]


def expected_newest_year(today: date, release: tuple[int, int] = (10, 15)) -> str:
    """The newest school year that should be loaded on ``today``: the year whose spring tests were last
    published (results of spring Y appear by the release date of Y; before it, spring Y-1's)."""
    spring = today.year if (today.month, today.day) >= release else today.year - 1
    return school_year_label(spring - 1)


def refused_reasons(archive_root, family: str) -> dict[str, str]:
    """school year -> why its newest archived file was refused (the years whose newest outcome is a refusal)."""
    versions = list_versions(archive_root)
    versions = versions[versions["family"] == family].sort_values("last_outcome_at")
    newest = versions.drop_duplicates("school_year", keep="last")
    return {row.school_year: row.reason for row in newest.itertuples() if row.status == REJECTED}


def _newest_year_check(family: str) -> dg.AssetChecksDefinition:
    asset = FAMILIES[family].asset_name

    @dg.asset_check(asset=asset, name="newest_year_is_current", blocking=False,
                    description=f"Warns when the newest school year of {asset} is older than the one CSDE has "
                    f"published by now (the refresh_policy resource's release_date, default 10-15).")
    def check(context, refresh_policy: RefreshPolicy, edsight: EdSightSource) -> dg.AssetCheckResult:  # (a string annotation would not be recognised)
        years = sort_years(context.instance.get_dynamic_partitions(FAMILIES[family].partitions_name))
        expected = expected_newest_year(datetime.now(ZoneInfo("America/New_York")).date(), refresh_policy.release())
        newest = years[-1] if years else None
        try:
            found = edsight.discover(family)
        except SourceError as exc:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       description=f"cannot tell: the export source cannot be listed ({exc})",
                                       metadata={"newest_year": newest or "", "expected_year": expected})
        in_source = sort_years(found)
        newer = [year for year in in_source if newest is None or int(year[:4]) > int(newest[:4])]
        refused = refused_reasons(edsight.storage.archive(), family)
        if newer:  # the source holds a newer year than the instance: refused, or not loaded yet
            year = newer[-1]
            why = (f"the export for {year} is in the source but was refused: {refused[year]}" if year in refused else
                   f"the export for {year} is in the source but not registered yet (school_year_partitions registers "
                   "it within a minute while the daemon runs, or run `alliance-pipeline refresh`)")
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description=why,
                                       metadata={"newest_year": newest or "", "newest_in_source": year,
                                                 "expected_year": expected})
        current = newest is not None and int(newest[:4]) >= int(expected[:4])
        if current or newest is not None:  # nothing newer in the source: judged by what the source holds
            note = "" if current else (f" (by the calendar CSDE has usually published {expected} by now: download "
                                       f"it from EdSight into {FAMILIES[family].folder}/ of the export folder)")
            return dg.AssetCheckResult(
                passed=True, severity=dg.AssetCheckSeverity.WARN,
                description=f"newest school year {newest} is the newest the export source holds{note}",
                metadata={"newest_year": newest, "newest_in_source": in_source[-1] if in_source else "",
                          "expected_year": expected})
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN,
            description=f"no school year of {asset} is loaded and the source holds none: put its exports in "
                        f"{FAMILIES[family].folder}/ of the export folder",
            metadata={"newest_year": "", "expected_year": expected})

    check.__name__ = f"{asset}_newest_year_is_current"
    return check


NEWEST_YEAR_CHECKS = [_newest_year_check(family) for family in CURRENT_FAMILIES]
