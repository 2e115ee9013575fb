"""The web front's SQLite store: accounts, assessments in progress (drafts) and uploaded batches.

It lives in the same file as the assessment history (``engine.ledger``: the
hash-chained ``assessments`` table that ``qmgrade history`` reads), in tables of
its own (``web_*``), so ``qmgrade history COMPANY --db PATH`` reads the rounds a
company submitted in the browser.  Every call opens its own connection (WAL,
busy timeout): safe from many server threads and beside other writers.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from contextlib import contextmanager
from typing import List, Optional

from engine.errors import InputError, Problem
from engine.ledger import use_wal

__all__ = ["Store", "hash_password", "check_password", "ROLES"]

ROLES = ("bureau", "company")
BUSY_TIMEOUT_S = 30.0
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS web_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS web_users (username TEXT PRIMARY KEY, password TEXT NOT NULL, "
    "role TEXT NOT NULL, company_id TEXT)",
    "CREATE TABLE IF NOT EXISTS web_drafts (id TEXT PRIMARY KEY, company_id TEXT NOT NULL, "
    "document TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS web_drafts_by_company ON web_drafts (company_id, created)",
    "CREATE TABLE IF NOT EXISTS web_batches (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, "
    "total INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0, "
    "failed INTEGER NOT NULL DEFAULT 0, results TEXT NOT NULL DEFAULT '', errors TEXT NOT NULL DEFAULT '[]', "
    "created INTEGER NOT NULL)",
]


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (hashlib.scrypt, a fresh 16-byte salt)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 1024 * 1024, dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


class Store:
    """The web tables of the database at ``path`` (created on first use)."""

    def __init__(self, path: str):
        self.path = str(path)
        try:
            with self._connect() as connection:
                use_wal(connection, BUSY_TIMEOUT_S)   # retried: another process may be opening the file too
                for sql in _SCHEMA:
                    connection.execute(sql)
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot open the web store ({exc})")) from None

    @contextmanager
    def _connect(self):
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _write(self):
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    # settings --------------------------------------------------------------------------------------
    def secret_key(self) -> str:
        """The key that signs session cookies, made once per database (sessions survive restarts)."""
        with self._write() as connection:
            row = connection.execute("SELECT value FROM web_settings WHERE name = 'secret_key'").fetchone()
            if row:
                return row["value"]
            value = secrets.token_hex(32)
            connection.execute("INSERT INTO web_settings VALUES ('secret_key', ?)", (value,))
            return value

    # users -----------------------------------------------------------------------------------------
    def add_user(self, username: str, password: str, role: str, company_id: Optional[str]) -> None:
        if role not in ROLES:
            raise InputError(Problem("--role", 1, 1, f"unknown role {role!r}: bureau or company"))
        if role == "company" and not company_id:
            raise InputError(Problem("--company", 1, 1, "a company user needs the company's id (--company ID)"))
        if not username or len(password) < 8:
            raise InputError(Problem("--password", 1, 1, "a password needs at least 8 characters"))
        with self._write() as connection:
            connection.execute("INSERT OR REPLACE INTO web_users VALUES (?, ?, ?, ?)",
                               (username, hash_password(password), role,
                                company_id if role == "company" else None))

    def has_users(self) -> bool:
        with self._connect() as connection:
            return connection.execute("SELECT 1 FROM web_users LIMIT 1").fetchone() is not None

    def user(self, username: str) -> Optional[dict]:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM web_users WHERE username = ?", (username,)).fetchone()
        return dict(row) if row else None

    def authenticate(self, username: str, password: str) -> Optional[dict]:
        user = self.user(username)
        if user is None:
            check_password(password, hash_password("timing"))   # same work whether or not the user exists
            return None
        return user if check_password(password, user["password"]) else None

    # drafts ----------------------------------------------------------------------------------------
    def new_draft(self, document: dict, company_id: str, now: int) -> str:
        ident = secrets.token_urlsafe(12)
        with self._write() as connection:
            connection.execute("INSERT INTO web_drafts VALUES (?, ?, ?, ?, ?)",
                               (ident, company_id, json.dumps(document, ensure_ascii=False), now, now))
        return ident

    def draft(self, ident: str) -> Optional[dict]:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM web_drafts WHERE id = ?", (ident,)).fetchone()
        if row is None:
            return None
        return {"id": row["id"], "company_id": row["company_id"], "document": json.loads(row["document"]),
                "created": row["created"], "updated": row["updated"]}

    def save_draft(self, ident: str, document: dict, now: int) -> None:
        with self._write() as connection:
            connection.execute("UPDATE web_drafts SET document = ?, updated = ? WHERE id = ?",
                               (json.dumps(document, ensure_ascii=False), now, ident))

    def drafts(self, company_id: Optional[str] = None) -> List[dict]:
        """Drafts of one company (or all of them), newest first."""
        with self._connect() as connection:
            if company_id is None:
                rows = connection.execute("SELECT * FROM web_drafts ORDER BY created DESC, id").fetchall()
            else:
                rows = connection.execute("SELECT * FROM web_drafts WHERE company_id = ? ORDER BY created DESC, id",
                                          (company_id,)).fetchall()
        return [{"id": r["id"], "company_id": r["company_id"], "document": json.loads(r["document"]),
                 "created": r["created"], "updated": r["updated"]} for r in rows]

    # batches ---------------------------------------------------------------------------------------
    def new_batch(self, name: str, now: int) -> str:
        ident = secrets.token_urlsafe(9)
        with self._write() as connection:
            connection.execute("INSERT INTO web_batches (id, name, status, created) VALUES (?, ?, 'running', ?)",
                               (ident, name, now))
        return ident

    def update_batch(self, ident: str, **fields) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        with self._write() as connection:
            connection.execute(f"UPDATE web_batches SET {names} WHERE id = ?", (*fields.values(), ident))

    def batch(self, ident: str) -> Optional[dict]:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM web_batches WHERE id = ?", (ident,)).fetchone()
        if row is None:
            return None
        batch = dict(row)
        batch["errors"] = json.loads(batch["errors"])
        return batch

    def batches(self) -> List[dict]:
        with self._connect() as connection:
            rows = connection.execute("SELECT id, name, status, total, done, records, failed, created "
                                      "FROM web_batches ORDER BY created DESC, id").fetchall()
        return [dict(r) for r in rows]

    # the assessment history (engine.ledger's table), read for listing -----------------------------
    def companies(self, company_id: Optional[str] = None) -> List[dict]:
        """Companies with rounds in the history: id, name, rounds, latest level (read only)."""
        with self._connect() as connection:
            if not connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                      "AND name = 'assessments'").fetchone():
                return []
            rows = connection.execute(
                "SELECT company_id, company_name, COUNT(*) AS rounds FROM assessments "
                + ("WHERE company_id = ? " if company_id is not None else "")
                + "GROUP BY company_id ORDER BY company_id", (company_id,) if company_id is not None else ()
            ).fetchall()
            out = []
            for row in rows:
                result = connection.execute(   # the latest round, in the order engine.ledger gives rounds
                    "SELECT result FROM assessments WHERE company_id = ? ORDER BY assessed_on IS NOT NULL DESC, "
                    "assessed_on DESC, seq DESC LIMIT 1", (row["company_id"],)).fetchone()
                out.append({"id": row["company_id"], "name": row["company_name"], "rounds": row["rounds"],
                            "result": json.loads(result["result"])})
        return out
