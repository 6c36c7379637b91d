"""Side-by-side performance figures (issue 15): ratios, not verdicts.

    .venv/bin/python benchmarks/bench_perf.py [--rows N] [--repeat K] [--exports DIR] [--part import|reader|refresh]

Prints, each measured in child processes interleaved K times (min and median):

- import of the code location vs a bare ``import dagster, pandas, pyarrow`` (wall and CPU);
- the EdSight reader vs ``pyarrow.csv.read_csv`` on a synthetic EdSight-format SBAC export of N rows
  (default 1,000,000) built from the real 2015-16 export's rows with new district codes (CPU, peak RSS);
- a full ``alliance-pipeline refresh`` on the real exports (CPU of the whole process tree, wall, peak RSS), each in
  fresh temporary folders and a fresh Dagster instance.

- the same refresh beside ``benchmarks/bare_pandas.py`` (the study's core numbers in a plain pandas script, no
  Dagster), interleaved, with a check that the numbers both produce are equal (``--part bare``).

- the goals of issue 26, as ratios (``--part goals``): the refresh against its floor (one process that imports the
  stack a refresh needs, ``dagster, pandas, pyarrow, great_expectations, matplotlib``, then does the bare script's
  arithmetic and writes its Parquet), CPU of the whole process tree; and the reader against
  ``pyarrow.csv.read_csv(...).to_pandas()`` on the same bytes (a synthetic export of ``--goal-rows`` rows, default
  200,000), CPU inside one child process after its imports, the two interleaved in the same process.

- the refresh at 1x, 10x and 100x the real districts (``--part scaling``, ``--scales``): every export of the real
  folder with each district's rows copied under new codes (same organization type, names numbered), aggregate rows
  once; the cohort keeps the real codes. Printed: CPU, wall, peak RSS and time per 1x.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def measure(args: list[str], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Wall seconds, CPU seconds (user + system of the child and the children it waited for) and peak RSS (MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def interleaved(cases: dict[str, callable], repeat: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, run in cases.items():
            results[name].append(run())
    return results


def summary(results: dict[str, list[dict]], baseline: str) -> None:
    base = {key: statistics.median(r[key] for r in results[baseline]) for key in ("wall", "cpu", "rss")}
    print(f"  {'':<34} {'wall min/med s':>16} {'CPU min/med s':>16} {'peak MiB':>9} {'CPU ratio':>10}")
    for name, runs in results.items():
        wall = [r["wall"] for r in runs]
        cpu = [r["cpu"] for r in runs]
        rss = max(r["rss"] for r in runs)
        print(f"  {name:<34} {min(wall):7.2f}/{statistics.median(wall):7.2f} {min(cpu):7.2f}/{statistics.median(cpu):7.2f} "
              f"{rss:9.0f} {statistics.median(cpu) / base['cpu']:9.2f}x")


def synthetic_sbac(source: Path, rows: int, target: Path) -> int:
    """An EdSight-format SBAC export of about ``rows`` data rows: the real file's title and header rows, then its
    district rows repeated with fresh 7-digit codes and names (one name per code, as EdSight writes)."""
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith('"District"'))
    head, body = lines[: header_at + 1], [line for line in lines[header_at + 1:] if line.strip()]
    parsed = list(csv.reader(body))
    districts = [r for r in parsed if r[1].strip('="') not in ("", "0000000")]
    written = 0
    with open(target, "w", encoding="utf-8", newline="") as out:
        out.write("\n".join(head) + "\n")
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        index = {code: k for k, code in enumerate(dict.fromkeys(r[1].strip('="') for r in districts))}
        copy = 0
        while written < rows:
            copy += 1
            for row in districts:
                number = (copy * len(index) + index[row[1].strip('="')]) % 10_000_000  # one code per district copy
                code = f"{number:07d}"
                writer.writerow([f"{row[0]} {copy}", f'="{code}"', *row[2:]])
                written += 1
                if written >= rows:
                    break
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exports", default=str(ROOT.parent / "shared" / "edsight"))
    parser.add_argument("--scales", default="1,10,100", help="district multiples for --part scaling")
    parser.add_argument("--goal-rows", type=int, default=200_000, help="rows of the reader's goal export")
    parser.add_argument("--part", choices=["import", "reader", "refresh", "bare", "scaling", "goals"], action="append",
                        help="measure only this part (repeatable; default: all)")
    args = parser.parse_args()
    exports = Path(args.exports)
    parts = set(args.part or ["import", "reader", "refresh", "bare", "scaling", "goals"])
    if "import" in parts:
        measure_import(args.repeat)
    if parts & {"reader", "refresh", "bare", "scaling", "goals"}:
        measure_data(exports, args, parts)


def measure_import(repeat: int) -> None:
    # Site-packages were compiled to bytecode at install (uv's compile-bytecode); the project's own package is an
    # editable install, so compile it too (PYTHONDONTWRITEBYTECODE may be set): both sides then load bytecode.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "alliance_pipeline")], check=True)
    print("Import of the code location vs a bare import (interleaved):")
    results = interleaved({
        "import dagster, pandas, pyarrow": lambda: measure([PYTHON, "-c", "import dagster, pandas, pyarrow"]),
        "import alliance_pipeline.definitions": lambda: measure([PYTHON, "-c", "import alliance_pipeline.definitions"]),
    }, max(repeat, 5))
    summary(results, "import dagster, pandas, pyarrow")


def measure_data(exports: Path, args: argparse.Namespace, parts: set[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-perf-") as tmp:
        tmp = Path(tmp)
        if "reader" in parts:
            measure_reader(exports, args, tmp)
        if "refresh" in parts or "bare" in parts:
            measure_refresh(exports, args, tmp, bare="bare" in parts)
        if "scaling" in parts:
            measure_scaling(exports, [int(x) for x in args.scales.split(",")], tmp)
        if "goals" in parts:
            measure_goals(exports, args, tmp)


STACK = "import dagster, pandas, pyarrow, great_expectations, matplotlib"

# One child process: imports first, then each reader in turn, timed with the process's CPU clock, interleaved.
READER_CHILD = """
import json, sys, time
import pyarrow.csv as c
from alliance_pipeline.edsight import read_export
path, header_row, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
read_export(path, expected_year="2015-16")  # warm: the first call pays lazy imports
c.read_csv(path, read_options=c.ReadOptions(skip_rows=header_row)).to_pandas()
times = {"pyarrow": [], "reader": []}
for _ in range(repeat):
    started = time.process_time()
    c.read_csv(path, read_options=c.ReadOptions(skip_rows=header_row)).to_pandas()
    times["pyarrow"].append(time.process_time() - started)
    started = time.process_time()
    read_export(path, expected_year="2015-16")
    times["reader"].append(time.process_time() - started)
print(json.dumps(times))
"""


def measure_goals(exports: Path, args: argparse.Namespace, tmp: Path) -> None:
    """Issue 26's two ratios: refresh / its floor, reader / pyarrow-to-pandas (goals: <= 2x, <= 3x)."""
    import json

    print(f"\nGoals (issue 26): the refresh against its floor on {exports}, interleaved:")
    floor_script = f"{STACK}\nimport runpy, sys\nsys.argv = ['bare', sys.argv[1], sys.argv[2]]\n" \
                   f"runpy.run_path({str(ROOT / 'benchmarks' / 'bare_pandas.py')!r}, run_name='__main__')"

    def floor_once() -> dict:
        run = Path(tempfile.mkdtemp(dir=tmp))
        return measure([PYTHON, "-c", floor_script, str(exports), str(run)])

    results = interleaved({"floor (stack imports + bare script)": floor_once,
                           "alliance-pipeline refresh": lambda: refresh_in(Path(tempfile.mkdtemp(dir=tmp)), exports)},
                          max(1, args.repeat - 1))
    summary(results, "floor (stack imports + bare script)")
    cpu = {name: statistics.median(r["cpu"] for r in runs) for name, runs in results.items()}
    print(f"  refresh / floor: {cpu['alliance-pipeline refresh'] / cpu['floor (stack imports + bare script)']:.2f}x "
          "CPU (median; goal <= 2x)")

    synthetic = tmp / "goal" / "smarter-balanced__2015-16_ela-and-math_all-students_all-grades.csv"
    synthetic.parent.mkdir()
    count = synthetic_sbac(next((exports / "sbac-district").glob("*2015-16*")), args.goal_rows, synthetic)
    header_row = next(i for i, line in enumerate(synthetic.open(encoding="utf-8")) if line.startswith('"District"'))
    done = subprocess.run([PYTHON, "-c", READER_CHILD, str(synthetic), str(header_row), str(max(args.repeat, 5))],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    times = json.loads(done.stdout)
    print(f"\nGoals (issue 26): the reader against pyarrow.csv.read_csv(...).to_pandas(), {count:,} rows, CPU after "
          "imports, interleaved in one process:")
    for name, label in (("pyarrow", "pyarrow read_csv + to_pandas"), ("reader", "alliance reader (read_export)")):
        print(f"  {label:<34} {min(times[name]):7.3f}/{statistics.median(times[name]):7.3f} s CPU min/median")
    print(f"  reader / pyarrow-to-pandas: {statistics.median(times['reader']) / statistics.median(times['pyarrow']):.2f}x "
          f"(median; min {min(times['reader']) / min(times['pyarrow']):.2f}x; goal <= 3x)")


def measure_reader(exports: Path, args: argparse.Namespace, tmp: Path) -> None:
    synthetic = tmp / "smarter-balanced__2015-16_ela-and-math_all-students_all-grades.csv"
    source = next((exports / "sbac-district").glob("*2015-16*"))
    count = synthetic_sbac(source, args.rows, synthetic)
    size = synthetic.stat().st_size / 2**20
    print(f"\nReader vs pyarrow.csv on a synthetic EdSight SBAC export: {count:,} rows, {size:.0f} MiB:")
    header_row = next(i for i, line in enumerate(synthetic.open(encoding="utf-8")) if line.startswith('"District"'))
    results = interleaved({
        "pyarrow.csv.read_csv": lambda: measure([PYTHON, "-c", (
            "import pyarrow.csv as c; c.read_csv(%r, read_options=c.ReadOptions(skip_rows=%d))" % (str(synthetic), header_row))]),
        "alliance reader (read_export)": lambda: measure([PYTHON, "-c", (
            "from alliance_pipeline.edsight import read_export; read_export(%r, expected_year='2015-16')" % str(synthetic))]),
    }, args.repeat)
    summary(results, "pyarrow.csv.read_csv")


def refresh_in(folder: Path, exports: Path) -> dict:
    """``alliance-pipeline refresh`` of ``exports`` with a fresh instance and every output under ``folder``."""
    env = {**os.environ, "DAGSTER_HOME": str(folder / "home"), "ALLIANCE_WAREHOUSE_DIR": str(folder / "warehouse"),
           "ALLIANCE_REPORTS_DIR": str(folder / "reports"), "ALLIANCE_ARCHIVE_DIR": str(folder / "archive"),
           "ALLIANCE_EDSIGHT_DIR": str(exports)}
    return measure([str(Path(PYTHON).parent / "alliance-pipeline"), "refresh"], env=env)


def measure_refresh(exports: Path, args: argparse.Namespace, tmp: Path, bare: bool) -> None:
    print(f"\nFull refresh on {exports} (fresh instance and folders each time)"
          + (" beside the bare pandas script:" if bare else ":"))
    outputs: dict[str, Path] = {}

    def refresh_once() -> dict:
        run = Path(tempfile.mkdtemp(dir=tmp))
        outputs["refresh"] = run / "warehouse"
        return refresh_in(run, exports)

    def bare_once() -> dict:
        run = Path(tempfile.mkdtemp(dir=tmp))
        outputs["bare"] = run
        return measure([PYTHON, str(ROOT / "benchmarks" / "bare_pandas.py"), str(exports), str(run)])

    cases = {"bare pandas script": bare_once} if bare else {}
    cases["alliance-pipeline refresh"] = refresh_once
    results = interleaved(cases, max(1, args.repeat - 1))
    summary(results, "bare pandas script" if bare else "alliance-pipeline refresh")
    if bare:
        compare_outputs(outputs["refresh"], outputs["bare"])


def scaled_exports(exports: Path, copies: int, target: Path) -> int:
    """The real export folder with ``copies`` times its districts (see the module's docstring); returns the number
    of district codes."""
    codes: dict[str, int] = {}
    for source in sorted(exports.glob("*/*.csv")):
        if source.parent.name == "variants":
            continue
        lines = source.read_text(encoding="utf-8-sig").splitlines()
        out_path = target / source.parent.name / source.name
        out_path.parent.mkdir(parents=True, exist_ok=True)
        header_at = next((i for i, line in enumerate(lines) if "District" in line and "Code" in line), None)
        if header_at is None:  # a statewide report: no district rows to copy
            out_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            continue
        header = next(csv.reader([lines[header_at]]))
        code_at = next(i for i, cell in enumerate(header) if "Code" in cell)
        name_at = next(i for i, cell in enumerate(header) if "District" in cell and "Code" not in cell)
        with open(out_path, "w", encoding="utf-8", newline="") as out:
            out.write("\n".join(lines[: header_at + 1]) + "\n")
            writer = csv.writer(out, lineterminator="\n")
            for row in csv.reader(line for line in lines[header_at + 1:] if line.strip()):
                code = row[code_at].strip('="')
                if code.strip("0") == "" or row[name_at] in ("Total", "State of Connecticut"):
                    writer.writerow(row)
                    continue
                index = codes.setdefault(code, len(codes))
                for copy in range(copies):
                    # copy (2 digits), district (3 digits, never ending in 00: real codes are town + 00 + type)
                    new = code if copy == 0 else f"{copy:02d}{index + 1 + index // 99:03d}{code[-2:]}"
                    cells = list(row)
                    cells[code_at] = f'="{new.zfill(7)}"' if row[code_at].startswith("=") else new.zfill(7)
                    cells[name_at] = row[name_at] if copy == 0 else f"{row[name_at]} {copy}"
                    writer.writerow(cells)
    return len(codes) * copies


def measure_scaling(exports: Path, scales: list[int], tmp: Path) -> None:
    if max(scales) > 100:
        raise SystemExit("--scales: at most 100 (two digits of the generated codes)")
    print(f"\nRefresh at several times the real districts (synthetic, from {exports}):")
    print(f"  {'scale':>6} {'districts':>10} {'CPU s':>8} {'wall s':>8} {'peak MiB':>9} {'CPU / 1x':>9}")
    first = None
    cpu: dict[int, float] = {}
    for scale in scales:
        folder = tmp / f"scaled-{scale}"
        districts = scaled_exports(exports, scale, folder / "edsight")
        result = refresh_in(folder, folder / "edsight")
        first = first or result
        cpu[scale] = result["cpu"]
        print(f"  {scale:>5}x {districts:>10,} {result['cpu']:8.1f} {result['wall']:8.1f} {result['rss']:9.0f} "
              f"{result['cpu'] / first['cpu']:8.1f}x", flush=True)
    if len(cpu) >= 2:  # cost = fixed + scale x per-1x, fitted through the two largest scales
        low, high = sorted(cpu)[-2:]
        per = (cpu[high] - cpu[low]) / (high - low)
        print(f"  the data's share: {per:.2f} s CPU per 1x of districts, fixed cost {cpu[low] - low * per:.1f} s "
              f"(straight line through {low}x and {high}x)")


def compare_outputs(warehouse: Path, bare: Path) -> None:
    """Do the pipeline and the bare script give the same numbers? (Printed, with the largest difference.)"""
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from alliance_pipeline.defs.common.io_manager import read_parquet

    keys = ["district_code", "subject"]
    renamed = {"District Code": "district_code", "Subject": "subject"}
    scores = pd.concat([read_parquet(warehouse / "sbac_district_scores" / f"{y}.parquet") for y in ("2014-15", "2015-16")])
    changes = read_parquet(warehouse / "sbac_score_changes.parquet")
    growth = read_parquet(warehouse / "growth_rankings.parquet")
    pairs = {
        "weighted scores": (scores[scores["score"].notna()], pd.read_parquet(bare / "scores.parquet"),
                            ["school_year", *keys], "score"),
        "2014-15 -> 2015-16 changes": (changes[~changes["excluded"]], pd.read_parquet(bare / "changes.parquet"),
                                       keys, "change"),
        "growth rates": (growth, pd.read_parquet(bare / "growth.parquet"), keys, "growth_rate"),
        "growth ranks (statewide)": (growth, pd.read_parquet(bare / "growth.parquet"), keys, "rank_state"),
    }
    print("  outputs compared (pipeline vs bare script):")
    for what, (ours, theirs, on, column) in pairs.items():
        theirs = theirs.rename(columns=renamed)
        ours, theirs = ours[ours[column].notna()], theirs[theirs[column].notna()]  # published values on both sides
        merged = ours[[*on, column]].astype({column: "float64"}).merge(
            theirs[[*on, column]].astype({column: "float64"}), on=on, how="outer", suffixes=("_pipeline", "_bare"),
            indicator=True)
        both = merged[merged["_merge"] == "both"]
        diff = (both[f"{column}_pipeline"] - both[f"{column}_bare"]).abs().max() if len(both) else 0.0
        only = (merged["_merge"] != "both").sum()
        verdict = "equal" if only == 0 and diff == 0 else f"DIFFER: max |diff| {diff:.3g}, {only} rows on one side only"
        print(f"    {what:<30} {len(both):5d} rows  {verdict}")


if __name__ == "__main__":
    main()
