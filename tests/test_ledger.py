"""The history as a ledger: a hash chain that `history verify` walks, triggers that refuse rewrites,
one row per grading, concurrent writers, a rerun after kill -9, migration of the first schema."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, ratings_up_to, run
from engine.ledger import row_hash

QMGRADE = str(Path(sys.executable).parent / "qmgrade")
COLUMNS = ("seq, company_id, company_name, assessed_on, level, barrel, model_id, model_version, model_sha256, "
           "input_sha256, result, assessment, prev_hash")


def companies(model, count, prefix="c", start=0):
    """JSON Lines of ``count`` companies with levels 1..5 in turn."""
    return "".join(json.dumps({"company": {"id": f"{prefix}-{i}", "name": f"公司 {i}"},
                               "assessed_on": "2026-11-01", "ratings": ratings_up_to(model, 1 + i % 5)}) + "\n"
                   for i in range(start, start + count))


@pytest.fixture
def ledger(runner, model_dir, model, tmp_path):
    """A history of four rows written by one batch."""
    source = tmp_path / "in.jsonl"
    source.write_text(companies(model, 4), encoding="utf-8")
    db = tmp_path / "h.sqlite"
    result = run(runner, "batch", source, "--model", model_dir, "--db", db, "--jobs", 1, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    return db


def verify(runner, db, *extra):
    return run(runner, "history", "verify", "--db", db, *extra)


def rows(db):
    return sqlite3.connect(db).execute("SELECT seq, company_id, level FROM assessments ORDER BY seq").fetchall()


def tamper(db, *statements):
    connection = sqlite3.connect(db, isolation_level=None)
    for sql in statements:
        connection.execute(sql)
    connection.close()


def rehash(db, seq, **changes):
    """A forger who knows the row hash: rewrite row ``seq`` with ``changes`` and a freshly computed hash."""
    connection = sqlite3.connect(db, isolation_level=None)
    row = dict(zip([c.strip() for c in COLUMNS.split(",")],
                   connection.execute(f"SELECT {COLUMNS} FROM assessments WHERE seq = ?", (seq,)).fetchone()))
    row.update(changes)
    connection.execute("DROP TRIGGER IF EXISTS assessments_no_update")
    connection.execute("UPDATE assessments SET level = ?, assessment = ?, row_hash = ? WHERE seq = ?",
                       (row["level"], row["assessment"], row_hash(row), seq))
    connection.close()


def test_an_intact_history_verifies_and_prints_its_head(runner, ledger):
    result = verify(runner, ledger)
    assert result.exit_code == 0, result.output
    head = sqlite3.connect(ledger).execute("SELECT row_hash FROM assessments WHERE seq = 4").fetchone()[0]
    assert result.output == f"OK: {ledger}: 4 rows, the hash chain is intact; head {head}\n"
    assert sqlite3.connect(ledger).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite3.connect(ledger).execute("PRAGMA user_version").fetchone()[0] == 2


@pytest.mark.parametrize("statement", [
    "UPDATE assessments SET level = 5 WHERE seq = 2",
    "DELETE FROM assessments WHERE seq = 2",
    "REPLACE INTO assessments SELECT seq, company_id, company_name, assessed_on, 5, barrel, model_id, model_version, "
    "model_sha256, input_sha256, result, assessment, prev_hash, row_hash FROM assessments WHERE seq = 2",
    "INSERT OR REPLACE INTO assessments SELECT seq, company_id, company_name, assessed_on, 5, barrel, model_id, "
    "model_version, model_sha256, input_sha256, result, assessment, prev_hash, row_hash FROM assessments "
    "WHERE seq = 2",
    # appending out of sequence, or a grading already stored, at the end of the chain
    "INSERT INTO assessments SELECT seq + 10, company_id, company_name, assessed_on, level, barrel, model_id, "
    "model_version, model_sha256, input_sha256, result, assessment, row_hash, row_hash FROM assessments "
    "WHERE seq = 4",
    "INSERT INTO assessments SELECT seq + 1, company_id, company_name, assessed_on, level, barrel, model_id, "
    "model_version, model_sha256, input_sha256, result, assessment, row_hash, row_hash FROM assessments "
    "WHERE seq = 4",
])
def test_the_schema_refuses_rewrites(ledger, statement):
    before = rows(ledger)
    with pytest.raises(sqlite3.DatabaseError, match="append-only|hash chain|already in the assessment history"):
        tamper(ledger, statement)
    assert rows(ledger) == before


def test_update_after_drop_trigger_names_the_row_and_the_trigger(runner, ledger, model_dir):
    tamper(ledger, "DROP TRIGGER assessments_no_update", "UPDATE assessments SET level = 5 WHERE seq = 2")
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {ledger}:1:1: the trigger assessments_no_update is missing: it was dropped, so rows may have "
        f"been changed since (qmgrade does not re-create it)\n"
        f"Error: {ledger}:1:1: row 2 was changed after it was written (its content no longer matches its hash)\n")
    # reading and writing refuse it too, and the dropped trigger stays dropped
    shown = run(runner, "history", "c-1", "--db", ledger, "--model", model_dir)
    assert shown.exit_code == 1
    assert shown.output.startswith(f"Error: {ledger}:1:1: the history's hash chain is broken: the trigger "
                                   f"assessments_no_update is missing")
    assert run(runner, "history", "c-1", "--db", ledger, "--model", model_dir, "--no-verify").exit_code == 0
    names = {row[0] for row in sqlite3.connect(ledger).execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert "assessments_no_update" not in names


def test_a_row_changed_and_the_trigger_put_back_is_still_found(runner, ledger):
    connection = sqlite3.connect(ledger, isolation_level=None)
    sql = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'assessments_no_update'").fetchone()[0]
    connection.execute("DROP TRIGGER assessments_no_update")
    connection.execute("UPDATE assessments SET level = 5 WHERE seq = 3")
    connection.execute(sql)
    connection.close()
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert result.output == (f"Error: {ledger}:1:1: row 3 was changed after it was written (its content no "
                             f"longer matches its hash)\n")


def test_a_deleted_row_is_named(runner, ledger):
    tamper(ledger, "DROP TRIGGER assessments_no_delete", "DELETE FROM assessments WHERE seq = 2")
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert result.output.endswith(f"Error: {ledger}:1:1: row 2 is missing: the chain jumps from row 1 to row 3 "
                                  f"(a row was deleted)\n")


def test_a_replaced_row_with_a_recomputed_hash_breaks_the_link_after_it(runner, ledger):
    connection = sqlite3.connect(ledger, isolation_level=None)
    names = [c.strip() for c in COLUMNS.split(",")]
    row = dict(zip(names, connection.execute(f"SELECT {COLUMNS} FROM assessments WHERE seq = 2").fetchone()))
    row["level"] = 5
    connection.execute("DROP TRIGGER assessments_append_in_sequence")
    connection.execute("DROP TRIGGER assessments_stored_once")
    connection.execute(f"REPLACE INTO assessments ({COLUMNS}, row_hash) VALUES ({', '.join('?' * 14)})",
                       (*row.values(), row_hash(row)))
    connection.close()
    assert rows(ledger)[1] == (2, "c-1", 5)
    result = verify(runner, ledger)
    assert result.exit_code == 1
    assert result.output.endswith(f"Error: {ledger}:1:1: the chain breaks between row 2 and row 3: row 2 was "
                                  f"replaced, or a row was inserted or deleted there\n")


def test_an_edited_stored_assessment_is_found_even_when_its_hash_is_recomputed(runner, ledger):
    assessment = json.loads(sqlite3.connect(ledger).execute(
        "SELECT assessment FROM assessments WHERE seq = 4").fetchone()[0])
    assessment["ratings"] = {cid: "full" for cid in assessment["ratings"]}
    # edited in place, input_sha256 kept: the row hash covers the stored JSON
    tamper(ledger, "DROP TRIGGER assessments_no_update",
           f"UPDATE assessments SET assessment = '{json.dumps(assessment)}' WHERE seq = 4")
    result = verify(runner, ledger)
    assert result.output.endswith(f"Error: {ledger}:1:1: row 4 was changed after it was written (its content no "
                                  f"longer matches its hash)\n")
    # and by a forger who recomputes the row hash (row 4 is the last: no link after it breaks)
    rehash(ledger, 4, assessment=json.dumps(assessment, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    result = verify(runner, ledger)
    assert result.output.endswith(f"Error: {ledger}:1:1: row 4: the stored assessment does not hash to its "
                                  f"input_sha256 (the row was rewritten)\n")


def test_rows_cut_off_the_end_show_against_a_noted_head(runner, ledger):
    head = verify(runner, ledger).output.split("head ")[1].strip()
    connection = sqlite3.connect(ledger, isolation_level=None)
    sql = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'assessments_no_delete'").fetchone()[0]
    connection.execute("DROP TRIGGER assessments_no_delete")
    connection.execute("DELETE FROM assessments WHERE seq = 4")
    connection.execute(sql)
    connection.close()
    assert verify(runner, ledger).exit_code == 0          # a chain alone cannot see its end cut off
    result = verify(runner, ledger, "--head", head)
    assert result.exit_code == 1
    assert result.output == (f"Error: {ledger}:1:1: the head {head} noted earlier is not in the chain: rows were "
                             f"cut off its end or the chain was rebuilt\n")


def test_qmgrade_does_not_append_to_a_tampered_history_nor_repair_it(runner, ledger, model_dir, tmp_path):
    tamper(ledger, "DROP TRIGGER assessments_stored_once")
    path = tmp_path / "a.yaml"
    path.write_text("company: {id: new}\nratings: {}\n", encoding="utf-8")
    result = run(runner, "assess", path, "--model", model_dir, "--db", ledger)
    assert result.exit_code == 1
    assert result.output == (f"Error: {ledger}:1:1: refusing to append to a tampered history: the trigger assessments_stored_once is missing: it was dropped, so rows "
                             f"may have been changed since (qmgrade does not re-create it); run `qmgrade history "
                             f"verify --db {ledger}`\n")
    assert len(rows(ledger)) == 4


def test_the_same_grading_is_stored_once(runner, model_dir, model, ledger, tmp_path):
    source = tmp_path / "more.jsonl"
    source.write_text(companies(model, 6), encoding="utf-8")          # four already stored, two new
    result = run(runner, "batch", source, "--model", model_dir, "--db", ledger, "--jobs", 1)
    assert result.exit_code == 0, result.output
    assert [r[1] for r in rows(ledger)] == ["c-0", "c-1", "c-2", "c-3", "c-4", "c-5"]
    assert verify(runner, ledger).exit_code == 0


def test_a_batch_that_fails_before_its_results_are_complete_stores_nothing(runner, model_dir, model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(companies(model, 3), encoding="utf-8")
    db, out = tmp_path / "h.sqlite", tmp_path / "no-such-dir" / "out.jsonl"
    result = run(runner, "batch", source, "--model", model_dir, "--db", db, "--out", out)
    assert result.exit_code == 1
    assert not db.exists() or rows(db) == []


def _qmgrade(*args, **kwargs):
    return subprocess.Popen([QMGRADE, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _open_history(path, barrier, answers, web):
    from engine.errors import QmgradeError
    from engine.ledger import History
    from engine.web.store import Store
    barrier.wait()                     # every process opens the new file at the same moment
    try:
        if web:
            Store(path)                # the web front's tables live in the history's file
        else:
            History(path).close()
        answers.put("opened")
    except QmgradeError as error:
        answers.put(str(error))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
@pytest.mark.parametrize("web", [False, True], ids=["batches", "batches-and-the-web-front"])
def test_processes_opening_one_new_history_at_once_all_open_it(tmp_path, web):
    # SQLite refuses the switch to WAL at once ("database is locked", no busy wait) when another connection
    # opens the same new file meanwhile: before the retry, about one process in thirteen failed so
    context = multiprocessing.get_context("fork")
    answers = []
    for trial in range(15):
        path = str(tmp_path / f"h-{trial}.sqlite")
        barrier, queue = context.Barrier(4), context.Queue()
        processes = [context.Process(target=_open_history, args=(path, barrier, queue, web and n % 2 == 1))
                     for n in range(4)]
        for process in processes:
            process.start()
        answers += [queue.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
    assert answers == ["opened"] * 60


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_batches_lose_nothing_and_duplicate_nothing(model_dir, model, tmp_path, writers):
    db = tmp_path / "h.sqlite"
    sources = []
    for index in range(writers):
        source = tmp_path / f"in-{index}.jsonl"
        # each batch its own 60 companies, and 20 shared with the next batch
        source.write_text(companies(model, 60, prefix=f"w{index}") + companies(model, 20, prefix="shared",
                                                                                start=20 * (index % 2)),
                          encoding="utf-8")
        sources.append(source)
    processes = [_qmgrade("batch", source, "--model", model_dir, "--db", db, "--jobs", 1,
                          "--out", tmp_path / f"out-{n}.jsonl") for n, source in enumerate(sources)]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
    stored = [r[1] for r in rows(db)]
    expected = {f"w{i}-{n}" for i in range(writers) for n in range(60)}
    expected |= {f"shared-{n}" for n in range(20 if writers == 1 else 40)}
    assert sorted(stored) == sorted(expected)                     # every row once
    verified = subprocess.run([QMGRADE, "history", "verify", "--db", str(db)], capture_output=True, text=True)
    assert verified.returncode == 0 and f"{len(expected)} rows" in verified.stdout


def test_a_rerun_after_kill_9_adds_each_grading_once(model_dir, model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(companies(model, 800), encoding="utf-8")
    db, out = tmp_path / "h.sqlite", tmp_path / "out.jsonl"
    process = _qmgrade("batch", source, "--model", model_dir, "--db", db, "--jobs", 1, "--out", out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:       # kill once results are being written
        if any(p.stat().st_size for p in tmp_path.glob(".out.jsonl.*")):
            break
        time.sleep(0.01)
    assert process.poll() is None, "the batch finished before it could be killed: give it more companies"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    assert not db.exists() or rows(db) == []                      # nothing stored without the results
    for _ in range(2):                                            # the rerun, then once more
        again = _qmgrade("batch", source, "--model", model_dir, "--db", db, "--jobs", 1, "--out", out)
        _, err = again.communicate(timeout=300)
        assert again.returncode == 0, err.decode()
        assert len(rows(db)) == 800
    assert len(out.read_text(encoding="utf-8").splitlines()) == 800


FIRST_SCHEMA = """
CREATE TABLE assessments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, company_id TEXT NOT NULL, company_name TEXT, assessed_on TEXT,
    level INTEGER NOT NULL, barrel INTEGER NOT NULL, model_id TEXT NOT NULL, model_version TEXT NOT NULL,
    model_sha256 TEXT NOT NULL, input_sha256 TEXT NOT NULL, result TEXT NOT NULL, assessment TEXT NOT NULL);
CREATE INDEX assessments_company ON assessments (company_id, assessed_on, seq);
CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments
BEGIN SELECT RAISE(ABORT, 'the assessment history is append-only'); END;
CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments
BEGIN SELECT RAISE(ABORT, 'the assessment history is append-only'); END;
"""


def test_a_history_of_the_first_schema_is_migrated_once(runner, model_dir, ledger, tmp_path):
    old = tmp_path / "old.sqlite"
    connection = sqlite3.connect(old)
    connection.executescript(FIRST_SCHEMA)
    stored = sqlite3.connect(ledger).execute(
        "SELECT company_id, company_name, assessed_on, level, barrel, model_id, model_version, model_sha256, "
        "input_sha256, result, assessment FROM assessments ORDER BY seq").fetchall()
    for row in [stored[1], stored[0], stored[1]]:                  # the first schema kept duplicates
        connection.execute("INSERT INTO assessments (company_id, company_name, assessed_on, level, barrel, "
                           "model_id, model_version, model_sha256, input_sha256, result, assessment) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
    connection.commit()
    connection.close()
    first = run(runner, "history", "c-1", "--db", old, "--model", model_dir, "--format", "json")
    assert first.exit_code == 0, first.output
    assert first.stderr == (f"Note: migrated the history {old} to the hash-chained schema 2: 3 existing rows "
                            f"chained in their order\n")
    second = run(runner, "history", "c-1", "--db", old, "--model", model_dir, "--format", "json")
    assert second.stderr == "" and second.stdout == first.stdout
    assert [r[1] for r in rows(old)] == ["c-1", "c-0", "c-1"]
    assert verify(runner, old).exit_code == 0
    with pytest.raises(sqlite3.DatabaseError, match="hash chain|already in the assessment history"):
        tamper(old, "REPLACE INTO assessments SELECT * FROM assessments WHERE seq = 1")


def test_history_verify_errors(runner, tmp_path):
    missing = tmp_path / "none.sqlite"
    result = verify(runner, missing)
    assert result.exit_code == 1
    assert result.output == f"Error: {missing}:1:1: no such database (write one with --db on assess or batch)\n"
    assert not missing.exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    result = verify(runner, junk)
    assert result.exit_code == 1 and result.output.startswith(f"Error: {junk}:1:1: not a qmgrade history database")
    assert run(runner, "history", "verify").exit_code == 2              # --db is required


def test_the_row_hash_is_the_documented_bytes(ledger):
    """docs/history-ledger.md: NAME TYPE LENGTH\\nVALUE\\n per field, in order, SHA-256 (no qmgrade code)."""
    import hashlib
    names = [c.strip() for c in COLUMNS.split(",")]
    connection = sqlite3.connect(ledger)
    previous = "0" * 64
    for values in connection.execute(f"SELECT {COLUMNS}, row_hash FROM assessments ORDER BY seq"):
        row = dict(zip([*names, "row_hash"], values))
        data = b""
        for name in names:
            value = row[name]
            if value is None:
                data += f"{name} null\n".encode()
            else:
                text = str(value).encode("utf-8")
                data += f"{name} {'int' if isinstance(value, int) else 'text'} {len(text)}\n".encode() + text + b"\n"
        assert row["prev_hash"] == previous
        assert hashlib.sha256(data).hexdigest() == row["row_hash"]
        assert hashlib.sha256(row["assessment"].encode("utf-8")).hexdigest() == row["input_sha256"]
        previous = row["row_hash"]
