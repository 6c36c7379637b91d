"""The bundled sample is made by the project's own seeded generator, byte for byte."""

from __future__ import annotations

import filecmp

from alliance_pipeline import paths
from alliance_pipeline.edsight import read_export
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import LocalExports
from alliance_pipeline.sample_data import SAMPLE_YEARS, generate_sample, write_export


def test_committed_sample_is_reproduced_exactly(tmp_path):
    written = generate_sample(tmp_path)
    committed = sorted(p.relative_to(paths.SAMPLE_EDSIGHT_DIR) for p in paths.SAMPLE_EDSIGHT_DIR.rglob("*.csv"))
    assert sorted(p.relative_to(tmp_path) for p in written) == committed
    for relative in committed:
        assert filecmp.cmp(tmp_path / relative, paths.SAMPLE_EDSIGHT_DIR / relative, shallow=False), relative


def test_sample_covers_every_family_and_2011_12_to_2016_17():
    source = LocalExports(paths.SAMPLE_EDSIGHT_DIR)
    years = set()
    for name in FAMILIES:
        found = source.discover(name)
        assert list(found) == list(SAMPLE_YEARS[name]), name
        years |= set(found)
    assert sorted(years) == ["2011-12", "2012-13", "2013-14", "2014-15", "2015-16", "2016-17"]


def test_sample_has_the_edsight_quirks():
    path = LocalExports(paths.SAMPLE_EDSIGHT_DIR).fetch("sbac_district", "2015-16")
    raw = path.read_bytes()
    assert b"\r\n" in raw and b'"=""0640011"""' in raw and b'"*"' in raw
    export = read_export(path, expected_year="2015-16")
    assert export.suppressed_cells > 0
    assert export.title == "Smarter Balanced Assessments, 2015-16"
    grades = export.frame.groupby("district_code")["grade"].apply(set)
    assert grades["2040012"] == {7, 8}  # serves only grades 7-8
    assert "2010012" not in grades  # a high-school district: no tested grade
    enrollment = read_export(LocalExports(paths.SAMPLE_EDSIGHT_DIR).fetch("enrollment", "2015-16"))
    assert enrollment.suppressed_cells >= 1


def test_a_new_year_and_a_republished_year_can_be_generated(tmp_path):
    new = write_export(tmp_path, "sbac_district", "2017-18")
    assert read_export(new, expected_year="2017-18").school_year == "2017-18"
    first = write_export(tmp_path / "a", "sbac_district", "2015-16").read_bytes()
    again = write_export(tmp_path / "b", "sbac_district", "2015-16").read_bytes()
    republished = write_export(tmp_path / "c", "sbac_district", "2015-16", revision=1).read_bytes()
    assert first == again and first != republished


def test_subgroup_exports_add_up_to_the_all_students_export():
    """Each subgroup family splits the same students the all-students export counts (grades 3-8 combined)."""
    from alliance_pipeline.edsight.families import SUBGROUP_FAMILIES

    for year in SAMPLE_YEARS["sbac_subgroup_race"]:
        everyone = read_export(next((paths.SAMPLE_EDSIGHT_DIR / "sbac-district").glob(f"*{year}*")), year).frame
        totals = everyone.groupby(["district_code", "subject"])["total_students"].sum()
        for name in SUBGROUP_FAMILIES:
            family = FAMILIES[name]
            frame = read_export(paths.SAMPLE_EDSIGHT_DIR / family.folder / family.filename_for(year), year).frame
            assert frame["subgroup"].notna().all()
            summed = frame.groupby(["district_code", "subject"])["total_students"].sum()
            assert summed.to_dict() == totals[totals > 0].to_dict(), (name, year)
