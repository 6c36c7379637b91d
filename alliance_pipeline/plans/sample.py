"""Seeded sample coded plans: the 30 cohort districts, plan years 2012-13 to 2015-16 (methodology section 12).

No coded plans were ever published, so the default run reads these. Their truth is known and written here:

- Plan quality follows the sample exports' own improvement: the eight cohort districts with the steepest ``trend``
  in ``sample_data.sample_districts`` (the districts whose scores rise, so the ones the sample's indicators tend to
  identify) write *strong* plans (a small core of interventions that continues year to year, support with a
  mechanism, outputs and outcomes with adult and student measures), except ``WEAK_AMONG_IMPROVERS`` of them, whose
  plans are as weak as the others': the study's hypothesis holds for six and fails for two.
- Equity focus is drawn the same way for every district (the study found the improving districts mirrored the
  others there).
- Coders: each district's plans are coded by one of four coders; every district has one plan year coded a second
  time, and two districts have all four years double-coded (as the study's team did). A second coder disagrees on a
  few codes, more often on the precedent and progression topics (so some codes fall under 0.8), and now and then
  lists an intervention the first did not.

``write_sample_plans(out)`` writes the sheets byte for byte the same for a seed; ``alliance-pipeline sample`` writes
them beside the exports.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from alliance_pipeline.plans.codebook import Codebook, load_codebook
from alliance_pipeline.plans.sheets import sheet_columns, sheet_name
from alliance_pipeline.sample_data import SEED, sample_districts

PLAN_YEARS = ("2012-13", "2013-14", "2014-15", "2015-16")
CODERS = ("coder-a", "coder-b", "coder-c", "coder-d")
STRONG_COUNT = 8
WEAK_AMONG_IMPROVERS = 2
FULLY_DOUBLE_CODED = 2  # districts whose four plan years are all coded twice
HARD_TOPICS = ("precedent", "progression")  # where the second coder disagrees more often

STRONG = {"core": (3, 5), "continue": 0.85, "mechanism": 0.9, "outputs_outcomes": 0.85, "adult_and_student": 0.6}
WEAK = {"core": (4, 8), "continue": 0.4, "mechanism": 0.45, "outputs_outcomes": 0.4, "adult_and_student": 0.2}
EQUITY = 0.15

DESCRIPTIONS = {
    "instructional_core": ["Building teacher knowledge on literacy instruction", "Introduction of a new math curriculum",
                           "Computer-based differentiated instruction in grades 3-5", "Tier II reading intervention blocks"],
    "human_capital": ["New induction program for new teachers", "Principal pipeline and leadership academy",
                      "Instructional coaches for each elementary school"],
    "infrastructure": ["Data warehouse and assessment platform", "Extended school day at two schools",
                       "Technology for classrooms"],
    "culture_climate": ["Wraparound services for students", "New behavior management approach (PBIS)",
                        "Family engagement center"],
}


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(f"plans|{seed}|" + "|".join(str(p) for p in parts))


def plan_profiles(seed: int = SEED) -> dict[str, dict]:
    """district code -> its plan profile (STRONG or WEAK), from the sample exports' improvement (the truth)."""
    cohort = [d for d in sample_districts(seed) if d.code in _cohort_codes()]
    improvers = [d.code for d in sorted(cohort, key=lambda d: (-d.trend, d.code))[:STRONG_COUNT]]
    weak = set(improvers[-WEAK_AMONG_IMPROVERS:])  # the hypothesis fails for these
    return {d.code: (STRONG if d.code in improvers and d.code not in weak else WEAK) for d in cohort}


def _cohort_codes() -> set[str]:
    from alliance_pipeline.reference import load_cohort

    return set(load_cohort()["district_code"])


def _pick(rng: random.Random, codes: list[str], low: int, high: int) -> list[str]:
    return sorted(rng.sample(codes, rng.randint(low, min(high, len(codes)))))


def _intervention(rng: random.Random, codebook: Codebook, profile: dict) -> dict[str, str]:
    """One intervention's codes, as its first coder would write them."""
    core = ["instructional_core", "human_capital", "infrastructure", "culture_climate"]
    substance = _pick(rng, core, 1, 2)
    if "instructional_core" in substance:
        substance += [code for code, p in (("discipline_focus", 0.6), ("tier_focus", 0.3)) if rng.random() < p]
    if rng.random() < EQUITY:
        substance.append("equity")
    codes = {
        "substance": substance,
        "alignment": _pick(rng, codebook.codes("alignment"), 0, 2) if rng.random() < 0.75 else [],
        "target_group": _pick(rng, codebook.codes("target_group"), 1, 2),
        "precedent": [rng.choice(codebook.codes("precedent"))] if rng.random() < 0.6 else [],
        "progression": [rng.choice(codebook.codes("progression"))] if rng.random() < 0.7 else [],
        "support_provider": _pick(rng, codebook.codes("support_provider"), 1, 2),
        "support_mechanism": _pick(rng, codebook.codes("support_mechanism"), 1, 2) if rng.random() < profile["mechanism"] else [],
    }
    adult = sorted(codebook.level_codes("adult"))
    student = sorted(codebook.level_codes("student"))
    system = sorted(codebook.level_codes("system"))
    if rng.random() < profile["outputs_outcomes"]:
        codes["monitoring_outputs"] = _pick(rng, codebook.codes("monitoring_outputs"), 1, 2)
        if rng.random() < profile["adult_and_student"]:
            codes["monitoring_outcomes"] = sorted([rng.choice(adult), rng.choice(student)])
        else:
            codes["monitoring_outcomes"] = [rng.choice(adult + system)]
    else:  # one side only, or the process alone
        side = rng.random()
        codes["monitoring_outputs"] = _pick(rng, codebook.codes("monitoring_outputs"), 1, 1) if side < 0.4 else []
        codes["monitoring_outcomes"] = [rng.choice(adult + student + system)] if 0.4 <= side < 0.7 else []
    codes["monitoring_process"] = _pick(rng, codebook.codes("monitoring_process"), 1, 2) if rng.random() < 0.8 or not (
        codes["monitoring_outputs"] or codes["monitoring_outcomes"]) else []
    codes["length"] = str(rng.randint(1, 3)) if rng.random() < 0.6 else ""
    description = rng.choice(DESCRIPTIONS[substance[0]])
    return {"description": description, **{k: (";".join(v) if isinstance(v, list) else v) for k, v in codes.items()}}


def _second_reading(rng: random.Random, codebook: Codebook, row: dict[str, str]) -> dict[str, str]:
    """A second coder's reading of the same intervention: a few codes added or dropped (never breaking a rule)."""
    row = dict(row)
    for topic in codebook.coded_topics:
        p = 0.25 if topic in HARD_TOPICS else 0.05
        if rng.random() >= p:
            continue
        codes = [c for c in row[topic].split(";") if c]
        allowed = [c for c in codebook.codes(topic) if not codebook.parent_of.get(c)]
        if codes and (not codebook.several[topic] or rng.random() < 0.5):
            dropped = [c for c in codes if c != rng.choice(codes)] if codebook.several[topic] else [rng.choice(allowed)]
            codes = dropped
        else:
            codes = sorted(set(codes) | {rng.choice(allowed)}) if codebook.several[topic] else [rng.choice(allowed)]
        codes = [c for c in codes if not codebook.parent_of.get(c) or codebook.parent_of[c] in codes]
        group = next((g for g, ts in codebook.required_groups.items() if topic in ts), None)
        if group and not codes and not any(row[t] for t in codebook.required_groups[group] if t != topic):
            continue  # the second coder still codes every required topic
        row[topic] = ";".join(sorted(codes))
    return row


def sample_plans(seed: int = SEED, codebook: Codebook | None = None) -> dict[tuple[str, str, str], list[dict[str, str]]]:
    """(district code, plan year, coder) -> the sheet's rows (intervention_id, description, topic codes)."""
    codebook = codebook or load_codebook()
    profiles = plan_profiles(seed)
    sheets: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for number, code in enumerate(sorted(profiles)):
        profile = profiles[code]
        rng = _rng(seed, code)
        first_coder = CODERS[number % len(CODERS)]
        second_coder = CODERS[(number + 1) % len(CODERS)]
        double_years = set(PLAN_YEARS) if number < FULLY_DOUBLE_CODED else {PLAN_YEARS[number % len(PLAN_YEARS)]}
        current: list[dict[str, str]] = []
        next_id = 1
        for year in PLAN_YEARS:
            kept = [row for row in current if rng.random() < profile["continue"]]
            low, high = profile["core"]
            wanted = max(low, min(high, len(kept) + rng.randint(0, 2) if kept else rng.randint(low, high)))
            while len(kept) < wanted:
                kept.append({"intervention_id": f"I{next_id:02d}", **_intervention(rng, codebook, profile)})
                next_id += 1
            current = kept
            sheets[(code, year, first_coder)] = [dict(row) for row in current]
            if year in double_years:
                second = [_second_reading(rng, codebook, row) for row in current if rng.random() > 0.04]
                if rng.random() < 0.15:  # an intervention the first coder did not list
                    second.append({"intervention_id": f"I{next_id:02d}", **_intervention(rng, codebook, profile)})
                    next_id += 1
                sheets[(code, year, second_coder)] = second
    return sheets


def write_sample_plans(out: str | Path, seed: int = SEED) -> list[Path]:
    """The sample's coding sheets as CSV files in ``out`` (one per district, plan year and coder)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    codebook = load_codebook()
    columns = sheet_columns(codebook)
    written = []
    for (code, year, coder), rows in sorted(sample_plans(seed, codebook).items()):
        path = out / sheet_name(code, year, coder)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\r\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({"district_code": code, "plan_year": year, "coder": coder, "notes": "", **row})
        written.append(path)
    return written
