"""Any folder the reader accepts refreshes (methodology section 7): subsets of the real exports in ../shared/edsight,
drawn by Hypothesis (families and years left out), each refreshed on a fresh instance. The refresh either succeeds,
with every table it could not compute said in the report as not computed and why, or refuses in one message naming
what is missing (no export at all; the export a method setting's year needs); never a stack trace."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from alliance_pipeline.refresh import refresh
from alliance_pipeline_tests.helpers import SHARED_EDSIGHT, pipeline_defs

EXPORTS = sorted(str(path.relative_to(SHARED_EDSIGHT)) for path in SHARED_EDSIGHT.glob("*/*.csv")
                 if path.parent.name != "variants")
# The five exports that crashed data_coverage (SBAC district 2014-15 and 2015-16, enrollment, growth and the
# accountability extract for 2015-16: no state export, no subgroups).
FIVE = frozenset(name for name in EXPORTS if any(part in name for part in (
    "sbac-district/smarter-balanced__2014-15", "sbac-district/smarter-balanced__2015-16",
    "enrollment-district/enrollment__2015-16", "accountability/",
    "sbac-growth-district/smarter-balanced-growth-model__2015-16_ela-and-math_all-students_all-grades-combined.csv")))


def _refresh_subset(root: Path, chosen: frozenset[str]):
    source = root / "edsight"
    for name in chosen:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_EDSIGHT / name, source / name)
    source.mkdir(parents=True, exist_ok=True)
    (root / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "home"), set_dagster_home=False) as instance:
        return refresh(pipeline_defs(root, source), instance, progress=lambda message: None)


@settings(max_examples=2, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chosen=st.frozensets(st.sampled_from(EXPORTS), max_size=len(EXPORTS)))
@example(chosen=FIVE)
@example(chosen=frozenset())
def test_any_subset_of_the_real_exports_refreshes_or_says_what_is_missing(tmp_path_factory, chosen):
    assert len(FIVE) == 5
    root = tmp_path_factory.mktemp("subset")
    result = _refresh_subset(root, chosen)
    if result.refused:  # nothing readable: one message naming what is missing, nothing written
        assert "holds no EdSight export" in result.refused and "Traceback" not in result.refused
        assert "(sbac-district/, sbac-state/," in result.refused and "{folders}" not in result.refused
        assert not (root / "warehouse").exists() or not any((root / "warehouse").rglob("*.parquet"))
        return
    if not result.success:  # a setting's year that the folder lacks: refused naming the export it needs
        message = result.failure.message
        assert chosen != FIVE, message  # the study's five exports always refresh
        assert re.search(r"no \w+ export for \d{4}-\d{2}", message), (sorted(chosen), message)
        assert "Traceback" not in message and not re.search(r"\b[A-Z]\w+Error\b", message), message
        return
    html = (root / "reports" / "latest" / "appendix-b.html").read_text(encoding="utf-8")
    assert "Traceback" not in html
    # every table the report shows either has rows or says it could not be computed, and why
    for block in html.split('data-unavailable="')[1:]:
        assert "Could not be computed.</strong> " in block.split("</div>", 1)[0]
