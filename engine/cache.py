"""A cache of the loaded, validated model, keyed by its fingerprint.

Loading the model parses and validates every YAML file (schema, references,
rules): about a third of a second, on every command.  The result is pickled
here and reused while nothing it came from has changed:

* the key hashes the *content* (SHA-256) of every model file, the directory as
  given (it shapes the paths shown in messages), ``allow_outside``, the Python
  version and the source of the engine itself; after unpickling, the model's
  own list of (file, SHA-256) must equal the one just computed from the files,
  so a cached model is never trusted when any model file changed, appeared or
  went away (its size and modification time are checked too, as a cheap first
  test);
* hashing every file costs more than the rest of a cold ``assess`` put together, so the key is also kept in a
  small index beside the entries, with the size, modification and change times, inode and device of each file
  it hashed (the model's and the engine's): while every file still shows exactly those, the key is read from
  the index instead of hashed again (issue 13).  A write changes a file's change time, which no program can set
  back; and, as git does for its index, a file whose times fall within two seconds of when it was hashed is
  "racily clean" — it might have changed again within the file system's clock tick — so an index holding one
  is never trusted;
* a model that fails to load is never cached (its errors are reported afresh);
* writes go to a temporary file in the cache directory and are renamed into
  place (``os.replace``), so processes filling the cache at the same time
  never see half a file; an unreadable or foreign entry is ignored (and the
  model loaded normally).

Where: ``$QMGRADE_CACHE_DIR``, else ``$XDG_CACHE_HOME/qmgrade``, else
``~/.cache/qmgrade``.  ``QMGRADE_NO_CACHE=1`` turns it off.  The directory is
created private (0700) and not used when another user owns it or others may
write to it (a pickle is code).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

__all__ = ["cache_dir", "cached_load", "FORMAT"]

FORMAT = 1          # bump when what is pickled changes shape
INDEX_FORMAT = 1    # ... and this when the index does
KEEP = 64           # cached models kept per directory (the most recently used), and as many indexes
RACY_NS = 2_000_000_000   # a file whose times are this close to its hashing is hashed again (see above)
_ENGINE = Path(__file__).resolve().parent
_engine_digest: Optional[str] = None


def cache_dir() -> Optional[Path]:
    """The cache directory, or None when caching is off."""
    if os.environ.get("QMGRADE_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("QMGRADE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return Path(base) / "qmgrade"


def _private_dir(directory: Path, create: bool) -> bool:
    try:
        if create:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & 0o022


def _engine_source_digest() -> str:
    """SHA-256 over the engine's Python source, its subpackages' too: a changed loader never reads an older
    loader's pickle."""
    global _engine_digest
    if _engine_digest is None:
        digest = hashlib.sha256()
        for path in sorted(_ENGINE.rglob("*.py")):
            digest.update(str(path.relative_to(_ENGINE)).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(path.read_bytes())
        _engine_digest = digest.hexdigest()
    return _engine_digest


def _model_files(root: Path, allow_outside: bool, list_files: Callable) -> List[Path]:
    """The model's YAML files, as the loader lists them."""
    return [path for sub in ("knowledge", "rules") for path in list_files(root, sub, allow_outside)]


def _fingerprint(root: Path, directory, allow_outside: bool, model_files: List[Path]) -> Tuple[str, list, list]:
    """(key, [(relative path, sha256)] sorted, [(path, size, mtime_ns)]) of the model in ``root``, whose files
    are ``model_files`` (:func:`_model_files`)."""
    files, stats = [], []
    for path in model_files:
        data = path.read_bytes()
        info = os.stat(path)
        files.append((str(path.relative_to(root)), hashlib.sha256(data).hexdigest()))
        stats.append((str(path), info.st_size, info.st_mtime_ns))
    files.sort()
    digest = hashlib.sha256()
    for part in (f"qmgrade-model-cache {FORMAT}", sys.version, _engine_source_digest(),
                 repr(None if directory is None else str(directory)), repr(str(root)), repr(bool(allow_outside))):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for rel, sha in files:
        digest.update(f"{rel}\0{sha}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest(), files, stats


def _watched(root: Path, model_files: List[Path]) -> List[str]:
    """Every file the key hashes (the engine's sources, the model's files) and every directory they are listed
    from — the model's, the engine's and the ones below them (adding, removing or replacing an entry changes a
    directory's times)."""
    directories = [str(root)]
    for top in (root / "knowledge", root / "rules", _ENGINE):
        for dirpath, dirnames, _ in os.walk(top):
            directories.append(dirpath)
            dirnames[:] = sorted(name for name in dirnames if name != "__pycache__")   # compiled, not sources
    files = [str(path) for path in sorted(_ENGINE.rglob("*.py"))]
    files += [str(path) for path in model_files]
    return directories + files


def _stamps(paths: List[str]) -> tuple:
    """(size, modification time, change time, inode, device) of each path."""
    stamps = []
    for path in paths:
        info = os.stat(path)
        stamps.append((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev))
    return tuple(stamps)


def _index_path(where: Path, root: Path, directory, allow_outside: bool) -> Path:
    digest = hashlib.sha256()
    for part in (f"qmgrade-model-index {INDEX_FORMAT}", sys.version, str(_ENGINE),
                 repr(None if directory is None else str(directory)), repr(str(root)), repr(bool(allow_outside))):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return where / f"index-{digest.hexdigest()[:40]}.pickle"


def _known_fingerprint(where: Path, root: Path, directory, allow_outside: bool,
                       list_files: Callable) -> Tuple[str, list, list]:
    """:func:`_fingerprint`, read from the index when no file it hashed changed since; else worked out, and
    the index written for the next time."""
    index = _index_path(where, root, directory, allow_outside)
    try:
        with open(index, "rb") as stream:
            fmt, hashed_at, paths, known, found = pickle.load(stream)
        if fmt == INDEX_FORMAT and _stamps(paths) == known and \
                all(max(mtime, ctime) + RACY_NS < hashed_at for _, mtime, ctime, _, _ in known):
            return found
    except Exception:  # noqa: S110 - missing, damaged, from another version, a file gone: work the key out
        pass
    hashed_at = time.time_ns()
    model_files = _model_files(root, allow_outside, list_files)   # listed once, for the stamps and the key
    paths = _watched(root, model_files)
    stamps = _stamps(paths)
    found = _fingerprint(root, directory, allow_outside, model_files)
    if _stamps(paths) == stamps:   # nothing changed while it was hashed (an added file changes its directory)
        _store(where, index, (INDEX_FORMAT, hashed_at, paths, stamps, found))
    return found


def _unchanged(stats: List[tuple]) -> bool:
    try:
        return all((os.stat(path).st_size, os.stat(path).st_mtime_ns) == (size, mtime)
                   for path, size, mtime in stats)
    except OSError:
        return False


def cached_load(directory, allow_outside: bool, root: Path, load: Callable, list_files: Callable):
    """``load(directory, allow_outside)``, from the cache when an entry for exactly these files exists.

    ``root`` is the model directory ``directory`` names (the default one when None); ``list_files(root, sub,
    allow_outside)`` lists its YAML files as the loader does.  Any problem with the cache itself falls back to
    loading: the cache can make a command faster, never different.
    """
    where = cache_dir()
    if where is None:
        return load(directory, allow_outside)
    private = _private_dir(where, create=False)
    try:
        key, files, stats = _known_fingerprint(where, root, directory, allow_outside, list_files) if private \
            else _fingerprint(root, directory, allow_outside, _model_files(root, allow_outside, list_files))
    except Exception:  # a file the loader refuses or cannot read: let it say so
        return load(directory, allow_outside)
    entry = where / f"model-{key}.pickle"
    if private:
        try:
            with open(entry, "rb") as stream:
                fmt, stored_key, stored_stats, model = pickle.load(stream)
            if fmt == FORMAT and stored_key == key and list(model.files) == files and _unchanged(stats):
                try:
                    os.utime(entry)   # recently used: pruned last
                except OSError:
                    pass
                return model
        except Exception:  # noqa: S110 - missing, truncated, from another version: load afresh
            pass
    model = load(directory, allow_outside)
    # store only what was loaded from exactly the files fingerprinted (none changed meanwhile)
    if list(model.files) == files and _unchanged(stats) and _private_dir(where, create=True):
        _store(where, entry, (FORMAT, key, stats, model))
    return model


def _store(where: Path, entry: Path, payload) -> None:
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something unpicklable in a model: simply do not cache it
        return
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=".model-", suffix=".tmp", dir=where)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, entry)
        temporary = None
        _prune(where)
    except OSError:
        pass
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


def _prune(where: Path) -> None:
    """Keep the ``KEEP`` most recently used cached models, and as many indexes."""
    for pattern in ("model-*.pickle", "index-*.pickle"):
        try:
            entries = sorted(where.glob(pattern), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        except OSError:
            return
        for old in entries[KEEP:]:
            try:
                old.unlink()
            except OSError:
                pass
