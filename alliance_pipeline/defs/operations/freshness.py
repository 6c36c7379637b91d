"""Freshness: after the annual refresh date, each family CSDE still publishes should hold last spring's year.

``expected_newest_year``, ``newest_year_verdict`` and ``source_verdict`` are the rules (pure); two WARN asset
checks on each raw asset, run by the ``check_freshness`` job that a daily schedule launches, keep two facts apart:
``newest_year_is_current`` (the newest year held is the one the calendar expects; fails naming the missing years)
and ``holds_every_source_year`` (the warehouse holds what the export source holds).
"""


from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from alliance_pipeline.archive import REJECTED, list_versions
from alliance_pipeline.defs.common.partitions import registered_years
from alliance_pipeline.defs.common.resources import EdSightSource, RefreshPolicy
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import SourceError
from alliance_pipeline.school_year import sort_years, start_of, year_label

# Families CSDE still publishes every year (the CMT ended in 2012-13).
CURRENT_FAMILIES = [name for name in FAMILIES if name != "cmt_district"]


def expected_newest_year(today: date, release: tuple[int, int] = (10, 15)) -> str:
    """The newest school year that should be loaded on ``today``: the year whose spring tests were last
    published (results of spring Y appear by the release date of Y; before it, spring Y-1's)."""
    spring = today.year if (today.month, today.day) >= release else today.year - 1
    return year_label(spring - 1)


def refused_reasons(archive_root, family: str) -> dict[str, str]:
    """school year -> why its newest archived file was refused (the years whose newest outcome is a refusal)."""
    versions = list_versions(archive_root, verify=False)
    versions = versions[versions["family"] == family].sort_values("last_outcome_at")
    newest = versions.drop_duplicates("school_year", keep="last")
    return {row.school_year: row.reason for row in newest.itertuples() if row.status == REJECTED}


def years_between(newest: str | None, expected: str) -> list[str]:
    """The school years after ``newest`` up to ``expected`` (every year to ``expected`` when nothing is held)."""
    first = start_of(newest) + 1 if newest else start_of(expected)
    return [year_label(start) for start in range(first, start_of(expected) + 1)]


def newest_year_verdict(newest: str | None, expected: str) -> tuple[bool, str, list[str]]:
    """(current, why, the missing years): is the newest year held at least the one the calendar expects?"""
    missing = years_between(newest, expected)
    if not missing:
        return True, f"newest school year {newest} is current (the calendar expects {expected})", []
    held = f"newest school year {newest}" if newest else "no school year is loaded"
    return False, (f"{held}, behind the {expected} CSDE has usually published by now: missing "
                   f"{', '.join(missing)}"), missing


def source_verdict(newest: str | None, in_source: list[str], refused: dict[str, str], asset: str,
                   folder: str) -> tuple[bool, str, str]:
    """(held, why, the newest year in the source): does the warehouse hold every year the export source holds?"""
    newer = [year for year in sort_years(in_source) if newest is None or start_of(year) > start_of(newest)]
    if newer:  # the source holds a newer year than the instance: refused, or not loaded yet
        year = newer[-1]
        why = (f"the export for {year} is in the source but was refused: {refused[year]}" if year in refused else
               f"the export for {year} is in the source but not registered yet (school_year_partitions registers "
               "it within a minute while the daemon runs, or run `alliance-pipeline refresh`)")
        return False, why, year
    if newest is None:
        return False, f"no school year of {asset} is loaded and the source holds none: put its exports in {folder}/ of the export folder", ""
    return True, f"the warehouse holds every school year the export source holds (newest {newest})", newest


def _freshness_checks(family: str) -> list[dg.AssetChecksDefinition]:
    asset = FAMILIES[family].asset_name
    folder = FAMILIES[family].folder

    @dg.asset_check(asset=asset, name="newest_year_is_current", blocking=False,
                    description=f"Warns when the newest school year of {asset} is older than the one CSDE has "
                    f"published by now (the refresh_policy resource's release_date, default 10-15), naming the "
                    f"missing years; whether the source holds them is the check holds_every_source_year.")
    def current(context, refresh_policy: RefreshPolicy) -> dg.AssetCheckResult:
        years = registered_years(context.instance, family)
        expected = expected_newest_year(datetime.now(ZoneInfo("America/New_York")).date(), refresh_policy.release())
        newest = years[-1] if years else None
        passed, why, missing = newest_year_verdict(newest, expected)
        if not passed:
            why += f" (download them from EdSight into {folder}/ of the export folder when CSDE publishes them)"
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, description=why,
                                   metadata={"newest_year": newest or "", "expected_year": expected,
                                             "missing_years": ", ".join(missing) or "none"})

    @dg.asset_check(asset=asset, name="holds_every_source_year", blocking=False,
                    description=f"Warns when the export source holds a school year of {asset} newer than the "
                    f"warehouse's (refused, or not registered yet); says nothing about the calendar "
                    f"(newest_year_is_current does).")
    def holds(context, edsight: EdSightSource) -> dg.AssetCheckResult:  # (a string annotation would not be recognised)
        years = registered_years(context.instance, family)
        newest = years[-1] if years else None
        try:
            found = edsight.discover(family)
        except SourceError as exc:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       description=f"cannot tell: the export source cannot be listed ({exc})",
                                       metadata={"newest_year": newest or ""})
        refused = refused_reasons(edsight.storage.archive(), family)
        passed, why, newest_in_source = source_verdict(newest, list(found), refused, asset, folder)
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, description=why,
                                   metadata={"newest_year": newest or "", "newest_in_source": newest_in_source})

    current.__name__ = f"{asset}_newest_year_is_current"
    holds.__name__ = f"{asset}_holds_every_source_year"
    return [current, holds]


NEWEST_YEAR_CHECKS = [check for family in CURRENT_FAMILIES for check in _freshness_checks(family)]
