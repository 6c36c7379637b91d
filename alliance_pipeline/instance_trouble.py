"""The Dagster instance's own folder in trouble, told in one line an operator can act on (no Dagster imported).

``alliance-pipeline refresh`` looks at ``DAGSTER_HOME`` before it starts: a folder it cannot write, a
``dagster.yaml`` that is not YAML (with the line and column), an SQLite file of the run history that is not a
database (damaged: move it aside), or one another process holds locked (waited for, within a bound, saying so).
Each ends in one line naming the file or folder and what to do, and nothing is changed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

# The SQLite files of a local instance (runs, the event log index and each run's events, schedules and sensors).
DATABASES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")
UNCHANGED = "nothing was changed"


class InstanceTrouble(RuntimeError):
    """The instance cannot be used; the message is the one line to print."""


def databases(home: Path) -> list[Path]:
    return [home / name for name in DATABASES if (home / name).is_file()]


def _probe(path: Path) -> str | None:
    """'locked', 'damaged' or None (usable) for one SQLite file: a write transaction begun and rolled back."""
    try:
        connection = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    except sqlite3.Error:
        return "damaged"
    try:
        connection.execute("PRAGMA schema_version").fetchone()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return None
    except sqlite3.OperationalError as exc:
        return "locked" if "locked" in str(exc) or "busy" in str(exc) else None
    except sqlite3.DatabaseError:
        return "damaged"
    finally:
        connection.close()


def check_home(home: Path, wait_seconds: float, progress: Callable[[str], None], poll: float = 1.0) -> None:
    """Raise InstanceTrouble when ``home`` cannot hold the instance; wait (at most ``wait_seconds``) while another
    process holds one of its databases locked."""
    if home.exists() and not os.access(home, os.W_OK | os.X_OK):
        raise InstanceTrouble(f"DAGSTER_HOME {home} is not writable by this process: make it writable "
                              f"(chmod u+w {home}) or set DAGSTER_HOME to a folder you can write; {UNCHANGED}")
    states = {}
    for path in databases(home):
        if not os.access(path, os.W_OK):
            raise InstanceTrouble(f"{path} (the Dagster instance's run history) is not writable by this process: "
                                  f"make it writable or set DAGSTER_HOME to a folder you can write; {UNCHANGED}")
        states[path] = _probe(path)
        if states[path] == "damaged":
            raise InstanceTrouble(
                f"{path} is not an SQLite database (damaged): move it aside (mv {path} {path}.damaged) and run "
                f"again; Dagster starts that part of its run history anew, and the Parquet warehouse, the archive "
                f"and the reports are kept as they are; {UNCHANGED}")
    deadline = time.monotonic() + wait_seconds
    said = False
    locked = [path for path, state in states.items() if state == "locked"]
    while locked:
        if time.monotonic() >= deadline:
            raise InstanceTrouble(
                f"{locked[0]} (the Dagster instance's run history) is still locked by another process after "
                f"{wait_seconds:.0f}s: wait for it to finish (`fuser {locked[0]}` names it) and run again; {UNCHANGED}")
        if not said:
            progress(f"  {locked[0]} is locked by another process; waiting up to {wait_seconds:.0f}s for it")
            said = True
        time.sleep(poll)
        locked = [path for path in locked if _probe(path) == "locked"]


def explain(exc: BaseException, home: Path) -> str | None:
    """One line for an error the instance raised (its configuration or its databases), or None for any other."""
    import yaml

    config = home / "dagster.yaml"
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return (f"{config} is not valid YAML{where}: {problem}. Fix it (the project's is "
                f"deploy/dagster-local.yaml) and run again; {UNCHANGED}")
    text = str(getattr(exc, "orig", None) or exc)
    if "database is locked" in text:
        return (f"the Dagster instance's run history in {home / 'history'} was locked by another process during the "
                "refresh: wait for it to finish and run again (the runs that completed are kept; what failed is "
                "said in the UI)")
    if "file is not a database" in text:
        damaged = [path for path in databases(home) if _probe(path) == "damaged"]
        where = damaged[0] if damaged else home
        return f"{where} is not an SQLite database (damaged): move it aside and run again; {UNCHANGED}"
    if "unable to open database file" in text or "readonly database" in text:
        return (f"DAGSTER_HOME {home} cannot be written by this process ({text.splitlines()[0]}): make it writable "
                f"or set DAGSTER_HOME to a folder you can write; {UNCHANGED}")
    return None
