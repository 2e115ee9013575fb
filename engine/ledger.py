"""The history database as a ledger: an append-only SQLite table whose rows form a hash chain.

Every row carries ``prev_hash`` (the ``row_hash`` of the row before it, 64
zeros for row 1) and ``row_hash``, the SHA-256 of the row's content and
``prev_hash`` (:func:`row_hash` says exactly which bytes).  Changing,
inserting, deleting or replacing a row breaks the chain at that row, and
:func:`verify_ledger` names the first row where it breaks.

The schema refuses what it can on its own (triggers):

- UPDATE and DELETE;
- an INSERT whose ``seq`` is not the last ``seq`` + 1 or whose ``prev_hash``
  is not the last row's ``row_hash`` — so ``REPLACE`` / ``INSERT OR REPLACE``
  of an existing row is refused before SQLite's REPLACE could delete it
  (which would not fire the delete trigger);
- a second row for the same input graded under the same model and
  ``assessed_on`` (the history stores each grading once, so a rerun after a
  kill adds nothing twice).

What the schema cannot stop (someone dropping a trigger, or editing the file
byte by byte), :func:`verify_ledger` finds: a missing or altered trigger is
reported, never silently re-created.  A chain cannot tell that rows were cut
off its end; ``history verify`` prints the head (the last ``row_hash``) so it
can be kept elsewhere and checked later with ``--head``.

Writers stage their rows in a temporary table and append them in one short
``BEGIN IMMEDIATE`` transaction (:meth:`History.commit`), so concurrent
writers wait for each other (WAL mode and a busy timeout) instead of failing,
and a batch that stops before it commits leaves nothing behind.

``PRAGMA user_version`` is the schema version: 0 with an ``assessments``
table is the first, chainless schema, migrated on open (rows re-chained in
their order, a notice in :attr:`History.notices`).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from .errors import InputError, Problem, suggestion

__all__ = ["History", "LedgerReport", "row_of", "row_hash", "use_wal", "verify_ledger", "GENESIS", "SCHEMA_VERSION"]

SCHEMA_VERSION = 2
GENESIS = "0" * 64
BUSY_TIMEOUT_S = 600.0      # a writer waits this long for another to finish its append

COLUMNS = ("company_id", "company_name", "assessed_on", "level", "barrel", "model_id", "model_version",
           "model_sha256", "input_sha256", "result", "assessment")
_ALREADY = "this grading is already in the assessment history"
_APPEND = "ABORT, 'the assessment history is a hash chain: rows are only appended, in sequence'"
_TABLE = """CREATE TABLE assessments (
    seq            INTEGER PRIMARY KEY,
    company_id     TEXT NOT NULL,
    company_name   TEXT,
    assessed_on    TEXT,
    level          INTEGER NOT NULL,
    barrel         INTEGER NOT NULL,
    model_id       TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    model_sha256   TEXT NOT NULL,
    input_sha256   TEXT NOT NULL,
    result         TEXT NOT NULL,
    assessment     TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    row_hash       TEXT NOT NULL
)"""
_INDEXES = (
    "CREATE INDEX assessments_by_company ON assessments (company_id, assessed_on, seq)",
    "CREATE INDEX assessments_by_input ON assessments (input_sha256, model_sha256)",
)
# name -> SQL; verify compares the stored SQL with these, so an altered trigger shows too
TRIGGERS = {
    "assessments_append_in_sequence": (
        "CREATE TRIGGER assessments_append_in_sequence BEFORE INSERT ON assessments "
        "WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM assessments) "
        f"OR NEW.prev_hash IS NOT coalesce((SELECT row_hash FROM assessments ORDER BY seq DESC LIMIT 1), '{GENESIS}') "
        f"BEGIN SELECT RAISE({_APPEND}); END"),
    "assessments_stored_once": (
        "CREATE TRIGGER assessments_stored_once BEFORE INSERT ON assessments "
        "WHEN EXISTS (SELECT 1 FROM assessments WHERE input_sha256 = NEW.input_sha256 "
        "AND model_sha256 = NEW.model_sha256 AND model_id = NEW.model_id AND model_version = NEW.model_version "
        "AND assessed_on IS NEW.assessed_on) "
        f"BEGIN SELECT RAISE(ABORT, '{_ALREADY}'); END"),
    "assessments_no_update": (
        "CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments "
        "BEGIN SELECT RAISE(ABORT, 'the assessment history is append-only'); END"),
    "assessments_no_delete": (
        "CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments "
        "BEGIN SELECT RAISE(ABORT, 'the assessment history is append-only'); END"),
}
_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS staged (n INTEGER PRIMARY KEY, "
          + ", ".join(COLUMNS) + ")")
_HASHED = ("seq", *COLUMNS, "prev_hash")


# -- rows and their hashes --------------------------------------------------------------------------
def row_of(model, assessment, result: dict, encoded: Optional[str] = None) -> tuple:
    """The history row of one graded assessment (``result`` = the assess object; any trace is dropped).

    ``encoded`` is the result already as JSON without trace, when the caller has it.
    """
    if encoded is None:
        encoded = json.dumps({k: v for k, v in result.items() if k != "trace"}, ensure_ascii=False)
    company = assessment.company
    return (None if company.get("id") is None else str(company.get("id")),
            None if company.get("name") is None else str(company.get("name")),
            assessment.assessed_on, result["level"]["rank"], result["barrel"]["rank"], model.id, model.version,
            model.sha256, assessment.sha256, encoded,
            # exactly the text input_sha256 is taken over, so verify can check one against the other
            json.dumps(assessment.canonical(), ensure_ascii=False, sort_keys=True, separators=(",", ":")))


def _field_bytes(name: str, value) -> bytes:
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")
        return b"%s text %d\n%s\n" % (name.encode(), len(data), data)
    if kind is int:
        data = str(value).encode()
        return b"%s int %d\n%s\n" % (name.encode(), len(data), data)
    if value is None:
        return b"%s null\n" % name.encode()
    data = repr(value).encode("utf-8", "surrogatepass")   # never written by qmgrade: hashes apart
    return b"%s %s %d\n%s\n" % (name.encode(), kind.__name__.encode(), len(data), data)


def row_hash(values: dict) -> str:
    """SHA-256 over the row's fields (``seq``, the content columns, ``prev_hash``), in that order.

    Each field is written as ``NAME TYPE LENGTH\\n VALUE\\n`` (the value's UTF-8
    bytes; TYPE ``int`` or ``text``; ``NAME null\\n`` for NULL), so no two
    different rows give the same bytes and any language can recompute it.
    """
    return hashlib.sha256(b"".join([_field_bytes(name, values[name]) for name in _HASHED])).hexdigest()


# -- verifying --------------------------------------------------------------------------------------
@dataclass
class LedgerReport:
    """What :func:`verify_ledger` found: the rows walked, the head, and the first break (if any)."""

    rows: int = 0
    head: str = GENESIS
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _trigger_problems(connection: sqlite3.Connection) -> List[str]:
    stored = dict(connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                     "AND tbl_name = 'assessments'"))
    problems = []
    for name, sql in TRIGGERS.items():
        if name not in stored:
            problems.append(f"the trigger {name} is missing: it was dropped, so rows may have been changed "
                            f"since (qmgrade does not re-create it)")
        elif " ".join(stored[name].split()) != " ".join(sql.split()):
            problems.append(f"the trigger {name} was altered (qmgrade does not repair it)")
    for name in sorted(set(stored) - set(TRIGGERS)):
        problems.append(f"an unknown trigger {name} was added to the history")
    return problems


def _input_hash_of(assessment_text: str, recorded: str) -> Optional[str]:
    if not isinstance(assessment_text, str):
        return None
    direct = hashlib.sha256(assessment_text.encode("utf-8", "surrogatepass")).hexdigest()
    if direct == recorded:
        return direct
    try:   # rows of the first schema stored the assessment JSON with spaces
        canonical = json.loads(assessment_text)
        text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _walk(connection: sqlite3.Connection, report: LedgerReport, head: Optional[str]) -> None:
    expected, previous = 1, GENESIS
    head_seen = head is None or head == GENESIS
    cursor = connection.execute(f"SELECT {', '.join(_HASHED)}, row_hash FROM assessments ORDER BY seq")
    for values in cursor:
        row = dict(zip((*_HASHED, "row_hash"), values))
        seq = row["seq"]
        if seq != expected:
            report.problems.append(
                f"row {expected} is missing: the chain jumps from row {expected - 1} to row {seq} "
                f"(a row was deleted)" if isinstance(seq, int) and seq > expected else
                f"row {seq!r} is out of sequence where row {expected} should be (a row was inserted)")
            return
        if row["prev_hash"] != previous:
            report.problems.append(
                f"the chain breaks between row {seq - 1} and row {seq}: row {seq - 1} was replaced, or a row "
                f"was inserted or deleted there" if seq > 1 else
                "row 1 does not start the chain: a row was inserted or deleted before it")
            return
        if row_hash(row) != row["row_hash"]:
            report.problems.append(f"row {seq} was changed after it was written (its content no longer "
                                   f"matches its hash)")
            return
        if _input_hash_of(row["assessment"], row["input_sha256"]) != row["input_sha256"]:
            report.problems.append(f"row {seq}: the stored assessment does not hash to its input_sha256 "
                                   f"(the row was rewritten)")
            return
        previous, expected = row["row_hash"], expected + 1
        head_seen = head_seen or previous == head
        report.rows += 1
    report.head = previous
    if not head_seen:
        report.problems.append(f"the head {head} noted earlier is not in the chain: rows were cut off its end "
                               f"or the chain was rebuilt")


def verify_ledger(connection: sqlite3.Connection, head: Optional[str] = None) -> LedgerReport:
    """Walk the chain of an open history; the report names the first row where it breaks.

    ``head``, when given, is a ``row_hash`` noted earlier (``history verify``
    prints it): it must still be in the chain, which shows rows cut off the end.
    The walk reads one snapshot, so a writer appending meanwhile does not disturb it.
    """
    report = LedgerReport()
    connection.execute("BEGIN")
    try:
        report.problems.extend(_trigger_problems(connection))
        _walk(connection, report, head)
    finally:
        connection.execute("COMMIT")
    return report


# -- the database -----------------------------------------------------------------------------------
def use_wal(connection: sqlite3.Connection, timeout_s: float = BUSY_TIMEOUT_S) -> None:
    """Put the file in WAL mode, if it is not yet.

    Another connection opening the same new file at the same moment can make SQLite refuse the switch at
    once with "database is locked", without waiting out the busy timeout (a lock it will not wait for, lest
    the two wait for each other): the switch is tried again, with a growing pause, for ``timeout_s`` (the
    history's busy timeout by default) — by then one of them has made it, and the mode is WAL for all.
    The web store (engine.web.store), in the same file, switches the same way."""
    deadline = time.monotonic() + timeout_s
    pause = 0.001
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class History:
    """An open history database (created on first use, migrated from the first schema).

    Rows given to :meth:`add` are staged and appended only by :meth:`commit`;
    :meth:`close` without a commit drops them.

    Raises
    ------
    InputError when the file is not a qmgrade history database or cannot be opened.
    """

    def __init__(self, path: str, create: bool = True):
        self.path = str(path)
        self.notices: List[str] = []
        if Path(self.path).is_dir():
            raise InputError(Problem(self.path, 1, 1, "is a directory, not a database file"))
        if not create and not Path(self.path).is_file():
            raise InputError(Problem(self.path, 1, 1, "no such database (write one with --db on assess or batch)"))
        try:
            self.connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot open the history ({exc})")) from None
        try:
            self._prepare()
            if create:     # a writer learns now, before any work, that it could not append
                self._check_appendable()
        except sqlite3.OperationalError as exc:     # read-only, locked too long, disk full ...
            self.connection.close()
            raise InputError(Problem(self.path, 1, 1, f"cannot use the history: {exc}")) from None
        except sqlite3.DatabaseError as exc:
            self.connection.close()
            raise InputError(Problem(self.path, 1, 1, f"not a qmgrade history database ({exc})")) from None
        except InputError:
            self.connection.close()
            raise
        self._staged = 0

    # opening ----------------------------------------------------------------------------------------
    def _prepare(self) -> None:
        connection = self.connection
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise InputError(Problem(self.path, 1, 1, f"history schema {version} is newer than this qmgrade "
                                                      f"reads ({SCHEMA_VERSION}): upgrade qmgrade"))
        # create or migrate, once, even when several processes open a new file at the same moment
        use_wal(connection)
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                columns = [row[1] for row in connection.execute("PRAGMA table_info(assessments)")]
                if not columns:
                    _create(connection)
                elif "row_hash" not in columns and set(COLUMNS) <= set(columns):
                    count = _migrate_from_first(connection)
                    self.notices.append(f"migrated the history {self.path} to the hash-chained schema "
                                        f"{SCHEMA_VERSION}: {count} existing rows chained in their order")
                else:
                    raise InputError(Problem(self.path, 1, 1, "not a qmgrade history database (its "
                                                              "'assessments' table has other columns)"))
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    # writing ----------------------------------------------------------------------------------------
    def add(self, row: Optional[tuple]) -> bool:
        """Stage one row (from :func:`row_of` or a batch worker); None (a bad record) is skipped.

        A row without a company id is skipped too (there is no company to
        follow); returns whether the row was staged.  Nothing is stored
        before :meth:`commit`.
        """
        if row is None or row[0] in (None, ""):
            return False
        row = (str(row[0]), None if row[1] is None else str(row[1]), *row[2:])
        try:
            if not self.connection.in_transaction:
                self.connection.execute(_STAGE)
                self.connection.execute("BEGIN")       # touches only the temporary table: no lock on the file
            self.connection.execute(f"INSERT INTO staged ({', '.join(COLUMNS)}) "
                                    f"VALUES ({', '.join('?' for _ in COLUMNS)})", row)
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot stage a history row: {exc}")) from None
        self._staged += 1
        return True

    def commit(self) -> Tuple[int, int]:
        """Append every staged row to the chain in one transaction; (rows added, rows already stored).

        Raises
        ------
        InputError when the history cannot be written, or its chain's last row
        or its triggers were tampered with (nothing is appended then).
        """
        if not self._staged:
            return 0, 0
        connection = self.connection
        try:
            if connection.in_transaction:
                connection.execute("COMMIT")
            connection.execute("BEGIN IMMEDIATE")
            try:
                added, known = self._append_staged()
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("DELETE FROM staged")
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot write the history: {exc}")) from None
        self._staged = 0
        return added, known

    def _append_staged(self) -> Tuple[int, int]:
        connection = self.connection
        last = self._check_appendable()
        seq, previous = (last[0], last[-1]) if last is not None else (0, GENESIS)
        insert = (f"INSERT INTO assessments ({', '.join(_HASHED)}, row_hash) "
                  f"VALUES ({', '.join('?' for _ in range(len(_HASHED) + 1))})")
        added = known = 0
        for values in connection.execute(f"SELECT {', '.join(COLUMNS)} FROM staged ORDER BY n"):
            row = dict(zip(COLUMNS, values), seq=seq + 1, prev_hash=previous)
            digest = row_hash(row)
            try:
                connection.execute(insert, (*(row[name] for name in _HASHED), digest))
            except sqlite3.IntegrityError as exc:
                if _ALREADY not in str(exc):
                    raise
                known += 1      # refused by the once-only trigger: this grading is stored already
                continue
            seq, previous = seq + 1, digest
            added += 1
        return added, known

    def _check_appendable(self) -> Optional[tuple]:
        """The last row, after checking the triggers and that row (a full walk is ``history verify``'s).

        Raises
        ------
        InputError when a trigger was dropped or altered, or the last row changed.
        """
        problems = _trigger_problems(self.connection)
        last = self.connection.execute(f"SELECT {', '.join(_HASHED)}, row_hash FROM assessments "
                                       f"ORDER BY seq DESC LIMIT 1").fetchone()
        if last is not None and row_hash(dict(zip(_HASHED, last))) != last[-1]:
            problems.append(f"row {last[0]}, the last row, was changed after it was written")
        if problems:
            raise InputError(Problem(self.path, 1, 1, f"refusing to append to a tampered history: {problems[0]}; "
                                                      f"run `qmgrade history verify --db {self.path}`"))
        return last

    def close(self) -> None:
        """Close without storing anything staged and not committed."""
        try:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
        finally:
            self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close()

    # reading ----------------------------------------------------------------------------------------
    def verify(self, head: Optional[str] = None) -> LedgerReport:
        """Walk the whole chain (:func:`verify_ledger`)."""
        try:
            return verify_ledger(self.connection, head)
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot read the history: {exc}")) from None

    def require_intact(self) -> None:
        """Raise InputError naming the first break when the chain is not intact."""
        report = self.verify()
        if not report.ok:
            raise InputError(Problem(self.path, 1, 1, f"the history's hash chain is broken: {report.problems[0]} "
                                                      f"(`qmgrade history verify --db {self.path}` says more; "
                                                      f"--no-verify reads it anyway)"))

    def rounds(self, company_id: str) -> List[dict]:
        """Every distinct round of a company, oldest first.

        Raises
        ------
        InputError when the database holds no assessment of that company.
        """
        cursor = self.connection.execute(
            "SELECT seq, company_id, company_name, assessed_on, model_id, model_version, model_sha256, "
            "input_sha256, result, assessment FROM assessments WHERE company_id = ? "
            "ORDER BY assessed_on IS NOT NULL, assessed_on, seq", (company_id,))
        rounds, seen = [], set()
        for seq, cid, name, assessed_on, mid, mversion, msha, isha, result, assessment in cursor:
            if (isha, msha) in seen:
                continue
            seen.add((isha, msha))
            rounds.append({"seq": seq, "company_id": cid, "company_name": name, "assessed_on": assessed_on,
                           "model": {"id": mid, "version": mversion, "sha256": msha}, "input_sha256": isha,
                           "result": json.loads(result), "assessment": json.loads(assessment)})
        if not rounds:
            known = [row[0] for row in self.connection.execute("SELECT DISTINCT company_id FROM assessments")]
            suffix = suggestion(company_id, known)
            raise InputError(Problem(self.path, 1, 1, f"no assessment of company {company_id!r} in the "
                                                      f"history{suffix}", "unknown-id"))
        return rounds


# -- schema steps -----------------------------------------------------------------------------------
def _create(connection: sqlite3.Connection) -> None:
    connection.execute(_TABLE)
    for sql in _INDEXES:
        connection.execute(sql)
    for sql in TRIGGERS.values():
        connection.execute(sql)


def _migrate_from_first(connection: sqlite3.Connection) -> int:
    """Re-chain the rows of the first (chainless) schema in their order; returns how many.

    Rows the first schema stored twice (the same input and model) are all kept:
    the history never drops what it was given.  The old table's triggers and
    index are replaced by the new ones; ``DROP TABLE`` then fires no delete trigger.
    """
    connection.execute("ALTER TABLE assessments RENAME TO assessments_first_schema")
    connection.execute("DROP INDEX IF EXISTS assessments_company")
    for name in ("assessments_no_update", "assessments_no_delete"):    # the new table gets its own
        connection.execute(f"DROP TRIGGER IF EXISTS {name}")
    _create(connection)
    # the new table starts without the once-only trigger: earlier duplicates are kept as they were
    connection.execute("DROP TRIGGER assessments_stored_once")
    seq, previous = 0, GENESIS
    insert = (f"INSERT INTO assessments ({', '.join(_HASHED)}, row_hash) "
              f"VALUES ({', '.join('?' for _ in range(len(_HASHED) + 1))})")
    for values in connection.execute(f"SELECT {', '.join(COLUMNS)} FROM assessments_first_schema "
                                     f"ORDER BY seq"):
        seq += 1
        row = dict(zip(COLUMNS, values), seq=seq, prev_hash=previous)
        previous = row_hash(row)
        connection.execute(insert, (*(row[name] for name in _HASHED), previous))
    connection.execute(TRIGGERS["assessments_stored_once"])
    connection.execute("DROP TABLE assessments_first_schema")
    return seq
