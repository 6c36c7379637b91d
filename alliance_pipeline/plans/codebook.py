"""The Appendix A codebook as data (``data/reference/plan-codebook__appendix-a.csv``).

One row per code: its topic (the coding sheet's column), the topic's label and definition, whether the topic is
required (``required_group``: a sheet row must have a code in at least one topic of each group; the monitoring group
is any of outputs, outcomes, process), whether a cell may hold several codes, the code's label, parent (a sub-code
is valid only beside its parent), outcome level (adult / student / system, for the logic-modeling indicator),
definition, example, source and, where the PDF's extracted text was garbled, the correction made.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from alliance_pipeline.paths import PLAN_CODEBOOK
from alliance_pipeline.reference import load_reference

YEARS_KIND = "years"  # a topic whose cell holds a number of years, not codes


@dataclass(frozen=True)
class Codebook:
    frame: pd.DataFrame  # the codebook file's rows (strings), with source_row and source_file

    @cached_property
    def topics(self) -> list[str]:
        """The topics in the codebook's order: the coding sheet's code columns."""
        return list(dict.fromkeys(self.frame["topic"]))

    @cached_property
    def coded_topics(self) -> list[str]:
        """Topics whose cells hold codes (not the length in years)."""
        kinds = self.frame.drop_duplicates("topic").set_index("topic")["kind"]
        return [topic for topic in self.topics if kinds[topic] != YEARS_KIND]

    @cached_property
    def years_topics(self) -> list[str]:
        """Topics whose cell holds a whole number of years (the intervention's length)."""
        return [topic for topic in self.topics if topic not in self.coded_topics]

    @cached_property
    def topic_of(self) -> dict[str, str]:
        """code -> its topic."""
        return dict(zip(self.frame["code"], self.frame["topic"]))

    def codes(self, topic: str) -> list[str]:
        return list(self.frame.loc[self.frame["topic"] == topic, "code"])

    @cached_property
    def parent_of(self) -> dict[str, str]:
        return {code: parent for code, parent in zip(self.frame["code"], self.frame["parent_code"]) if parent}

    @cached_property
    def several(self) -> dict[str, bool]:
        """topic -> whether a cell may hold several codes (separated by ';')."""
        first = self.frame.drop_duplicates("topic")
        return dict(zip(first["topic"], first["several"] == "yes"))

    @cached_property
    def required_groups(self) -> dict[str, list[str]]:
        """group -> its topics; a row needs a code in at least one topic of every group."""
        groups: dict[str, list[str]] = {}
        for topic, group in self.frame.drop_duplicates("topic")[["topic", "required_group"]].itertuples(index=False):
            if group:
                groups.setdefault(group, []).append(topic)
        return groups

    def level_codes(self, level: str) -> set[str]:
        """The outcome codes of one level (adult, student, system)."""
        return set(self.frame.loc[self.frame["outcome_level"] == level, "code"])

    @cached_property
    def version(self) -> str:
        return str(self.frame["codebook_version"].iloc[0]) if len(self.frame) else ""


def load_codebook(path: str | Path = PLAN_CODEBOOK) -> Codebook:
    """The codebook file, read as strings like every reference table (``reference.load_reference``)."""
    return Codebook(load_reference(path, code_column="code"))


def plan_codebook(path: str | Path = PLAN_CODEBOOK) -> pd.DataFrame:
    """The codebook table the ``plan_codebook`` asset stores: one row per code, with its topic's columns."""
    return load_codebook(path).frame
