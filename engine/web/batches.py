"""Batches the bureau uploads: stored, graded in a background thread by ``qmgrade batch``'s own
code (:func:`engine.web.service.batch_file`), with progress and a per-record error list."""
from __future__ import annotations

import io
import json
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import List

from engine.errors import InputError, Problem, QmgradeError

from . import service
from .access import errors_of

__all__ = ["start_batch", "unprefixed", "unzip"]


def unzip(content: bytes, folder: Path, limits) -> Path:
    """Extract a zip of questionnaires (flat: base names only), refusing bombs and too many members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise InputError(Problem("upload.zip", 1, 1, "not a readable zip archive")) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > limits.zip_members:
        raise InputError(Problem("upload.zip", 1, 1, f"more than {limits.zip_members} files in the zip"))
    total = sum(m.file_size for m in members)
    if total > limits.zip_bytes:
        raise InputError(Problem("upload.zip", 1, 1, f"the zip expands to more than {limits.zip_bytes} bytes"))
    target = folder / "questionnaires"
    target.mkdir()
    names = set()
    for member in members:
        if member.file_size > limits.zip_ratio * max(member.compress_size, 1) and member.file_size > 1_000_000:
            raise InputError(Problem(member.filename, 1, 1, "expands too far for its size (a zip bomb?)"))
        name = Path(member.filename.replace("\\", "/")).name
        if not name or name.startswith(".") or name in names:
            continue
        names.add(name)
        with archive.open(member) as source, open(target / name, "wb") as out:
            remaining = member.file_size + 1
            chunk = source.read(min(remaining, 1 << 20))
            while chunk:
                remaining -= len(chunk)
                if remaining <= 0:
                    raise InputError(Problem(member.filename, 1, 1, "larger than the zip says"))
                out.write(chunk)
                chunk = source.read(min(remaining, 1 << 20))
    return target


def start_batch(app, filename: str, content: bytes) -> str:
    """Store the upload, grade it in a background thread (``qmgrade batch``); returns the batch id."""
    ctx = app.extensions["qmgrade"]
    store, limits = ctx["store"], ctx["limits"]
    name = Path(filename).name or "batch"
    if not name.lower().endswith((".jsonl", ".ndjson", ".csv", ".xlsx", ".zip")):
        raise InputError(Problem(name, 1, 1, "expected JSON Lines (.jsonl), a wide CSV or XLSX, or a .zip "
                                             "of questionnaires"))
    folder = Path(tempfile.mkdtemp(prefix="qmgrade-batch-"))
    if name.lower().endswith(".zip"):
        path = unzip(content, folder, limits)
    else:
        path = folder / name
        path.write_bytes(content)
    ident = store.new_batch(name, int(time.time()))
    thread = threading.Thread(target=_run_batch, args=(ctx, ident, str(path), folder), daemon=True,
                              name=f"qmgrade-batch-{ident}")
    thread.start()
    ctx.setdefault("threads", []).append(thread)
    return ident


def unprefixed(text: str, folder) -> str:
    """Messages name the uploaded file as the user knows it, not the server's temporary folder."""
    prefix = str(folder).rstrip("/") + "/"
    return text.replace(json.dumps(prefix)[1:-1], "").replace(prefix, "")


def _run_batch(ctx, ident: str, path: str, folder: Path) -> None:
    from engine.ledger import History
    store, model = ctx["store"], ctx["model"]
    lines: List[str] = []
    errors: List[str] = []
    state = {"done": 0, "last": 0.0}
    history = History(ctx["db"])

    def on_result(summary, row):
        if summary.get("error"):
            errors.append(unprefixed(str(summary.get("message") or summary.get("error")), folder))
        if row is not None:
            history.add(row)

    def on_progress(units):
        state["done"] += units
        if time.monotonic() - state["last"] > 0.5:
            state["last"] = time.monotonic()
            store.update_batch(ident, done=state["done"])

    try:
        total, report = service.batch_file(model, path, on_line=lines.append, on_result=on_result,
                                           on_progress=on_progress, with_db=True,
                                           on_total=lambda units: store.update_batch(ident, total=units))
        history.commit()
        store.update_batch(ident, status="done", done=total, records=report.records, failed=report.failed,
                           results=unprefixed("".join(lines), folder),
                           errors=json.dumps(errors[:1000], ensure_ascii=False))
    except QmgradeError as error:
        store.update_batch(ident, status="failed", errors=json.dumps([unprefixed(e, folder) for e in
                                                                     errors_of(error)], ensure_ascii=False))
    except Exception as error:  # a bug: the page says so instead of spinning for ever
        store.update_batch(ident, status="failed",
                           errors=json.dumps([f"-:1:1: internal error ({type(error).__name__}: {error})"]))
    finally:
        history.close()
        shutil.rmtree(folder, ignore_errors=True)
