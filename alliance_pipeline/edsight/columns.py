"""Column vocabulary: EdSight header text -> clean snake_case names and value types.

EdSight squeezes line breaks out of its header cells ("Total Numberof Students",
"Smarter BalancedParticipationRate"), so headers are matched on a compact key
(lower case, letters and digits only) and mapped to a readable name. Headers that
are not in the vocabulary still get a generic snake_case name, so a new column in
a future export is kept rather than dropped.
"""

from __future__ import annotations

import re

# compact header key -> clean column name
KNOWN_COLUMNS: dict[str, str] = {
    "district": "district_name",
    "rptngdistrictname": "district_name",
    "districtname": "district_name",
    "districtcode": "district_code",
    "reportingdistrictcode": "district_code",
    "grade": "grade",
    "subject": "subject",
    "totalnumberofstudents": "total_students",
    "totalnumbertested": "total_tested",
    "smarterbalancedparticipationrate": "participation_rate",
    "participationrate": "participation_rate",
    "totalnumberwithscoredtests": "total_scored",
    "averagevss": "average_vss",
    "numberofmatchedstudents": "matched_students",
    "growthrate": "growth_rate",
    "averagepercentageoftargetachieved": "avg_pct_target_achieved",
    "count": "student_count",
    "fallofyear": "fall_of_year",
    "category": "category",
    "totalpoints": "total_points",
    "totalpossiblepoints": "total_possible_points",
    "outcomeratepct": "outcome_rate_pct",
    "numbertested": "number_tested",
    "averagescalescore": "average_scale_score",
    # The subgroup column of the "by subgroup" SBAC exports (section 10): one name for all four,
    # the export's own header text stays in the labels used by messages.
    "race": "subgroup",
    "ell": "subgroup",
    "specialeducation": "subgroup",
    "freereducedpricemealeligibility3level": "subgroup",
}

# compact group-row label -> short prefix for the columns under it
GROUP_ALIASES: dict[str, str] = {
    "averageverticalscalescorevss": "vss",
}

# Header cells that name a column alone but, under a group row, are that group's ("Count" under "Level 1Not Met"
# in the all-grades-combined report is level_1_not_met_count, not the enrollment export's student count).
GROUPED_LABELS = frozenset({"count"})

# Columns holding a CSDE code, normalised alike (``="0010011"``, ``10011`` -> ``0010011``).
CODE_COLUMNS = frozenset({"district_code", "school_code"})
# Columns that identify a row; never numeric, never "suppressed".
IDENTIFIER_COLUMNS = frozenset({"district_name", "subject", "category", "subgroup", "school_name", *CODE_COLUMNS})

INTEGER_COLUMNS = frozenset(
    {
        "grade",
        "total_students",
        "total_tested",
        "total_scored",
        "matched_students",
        "student_count",
        "fall_of_year",
        "number_tested",
    }
)

FLOAT_COLUMNS = frozenset(
    {
        "participation_rate",
        "average_vss",
        "growth_rate",
        "avg_pct_target_achieved",
        "total_points",
        "total_possible_points",
        "outcome_rate_pct",
        "average_scale_score",
    }
)

# Columns whose presence marks the header row of an export.
DISTRICT_ID_KEYS = frozenset({"district", "districtcode", "reportingdistrictcode", "rptngdistrictname"})

_YEAR_LABEL = re.compile(r"^\d{4}-\d{2}$")


def compact(text: str) -> str:
    """Lower-case letters and digits only: the key headers are matched on."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def snake(text: str) -> str:
    """Generic snake_case: split camel case and digit/letter runs, ``%`` -> ``pct``."""
    text = text.replace("%", " pct ").replace("&", " ")
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    text = re.sub(r"(?<=\d)(?=[A-Za-z])|(?<=[A-Za-z])(?=\d)", " ", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def column_kind(name: str) -> str:
    """``int``, ``float``, ``id`` or ``infer`` for a clean column name."""
    if name in IDENTIFIER_COLUMNS:
        return "id"
    if name in INTEGER_COLUMNS or name.endswith("_count"):
        return "int"
    if name in FLOAT_COLUMNS or name.endswith("_pct"):
        return "float"
    return "infer"


def merge_header(group_row: list[str] | None, header_row: list[str]) -> tuple[list[str], list[str]]:
    """Clean names for a one- or two-row header.

    The group row (the merged cells above the header, e.g. "Level 1Not Met" over
    its "Count" and "%" columns) is carried right over empty cells. A header cell
    that names itself ("Growth Rate", "Level 1 Not Met  Count") keeps its own
    name; one that does not ("%", "2014-15", "Gain") is named after its group.
    Returns the clean names and, for messages, the header text a person sees.
    """
    names: list[str] = []
    labels: list[str] = []
    group = ""
    for i, label in enumerate(header_row):
        top = (group_row[i] if group_row and i < len(group_row) else "").strip()
        if top:
            group = top
        label = label.strip()
        key = compact(label)
        if key in KNOWN_COLUMNS and not (group and key in GROUPED_LABELS):
            name = KNOWN_COLUMNS[key]
        elif group and label and not key.startswith(compact(group)) and (
            label == "%" or _YEAR_LABEL.match(label) or len(key) <= 6 or key in GROUPED_LABELS
        ):
            prefix = GROUP_ALIASES.get(compact(group), snake(group))
            name = f"{prefix}_{snake(label)}"
            label = f"{group} / {label}"
        else:
            name = snake(label) or f"column_{i + 1}"
        names.append(name)
        labels.append(label)
    return _dedupe(names), labels


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}_{seen[name]}")
        else:
            seen[name] = 1
            out.append(name)
    return out
