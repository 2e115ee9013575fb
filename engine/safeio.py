"""Output files that never replace what qmgrade reads, written atomically.

Every ``--out`` of every command goes through :func:`check_output` (before any
work is done) and :class:`AtomicFile` (when the result is ready):

- ``-`` means standard output (:func:`check_output` returns ``None``);
- a path that resolves — through symbolic links, hard links,
  ``/proc/self/fd/N`` or ``/dev/stdout`` — to a protected file (an input, a
  model file, the ``--db`` history and its journal) or to anything that is
  not a regular file (a device, a pipe, a folder) is refused;
- a path inside a model's ``knowledge/`` or ``rules/`` folder is refused (a
  new YAML file there would become part of the model);
- an existing file that is not writable (0444) is refused; one that is keeps
  its permission bits; a new file gets the permissions ``open()`` would give
  it (0666 less the umask);
- the content goes to a hidden temporary file beside the target and is moved
  over it only once complete (``os.replace``), so the target is only ever the
  finished file; temporary files still open when the process is stopped are
  removed by :func:`remove_temporaries` (the CLI calls it on SIGINT/SIGTERM), and those of a run
  killed outright (SIGKILL) by the next write to the same target.

Problems are :class:`~engine.errors.InputError` naming the path
(``out.md:1:1: cannot write: permission denied``), never a raw ``OSError``.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Set

from .errors import InputError, Problem

__all__ = ["check_output", "check_directory", "protected_files", "AtomicFile", "write_atomic",
           "remove_temporaries", "DB_SIDECARS"]

DB_SIDECARS = ("-wal", "-shm", "-journal")
_WRITE_BUFFER = 1 << 20   # bytes a binary output holds before it writes them
_TEMPORARIES: Set[str] = set()      # temporary files of this process not yet moved into place


def _problem(path: str, message: str) -> InputError:
    return InputError(Problem(str(path), 1, 1, message))


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def protected_files(inputs: Iterable[str] = (), model_dirs: Iterable[str] = (),
                    databases: Iterable[str] = ()) -> List[str]:
    """Every path an output must not resolve to: the inputs, each model's files, each database and its journal."""
    paths = [str(p) for p in inputs if p and str(p) != "-"]
    for directory in model_dirs:
        if not directory:
            continue
        for sub in ("knowledge", "rules"):
            for dirpath, _dirnames, filenames in os.walk(Path(directory) / sub):
                paths.extend(os.path.join(dirpath, name) for name in filenames)
    for database in databases:
        if database:
            paths.append(str(database))
            paths.extend(f"{database}{suffix}" for suffix in DB_SIDECARS)
    return paths


def _identity(path: str):
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino)


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False


def _refusal(shown: str, other: str) -> str:
    same = os.path.normpath(os.path.abspath(shown)) == os.path.normpath(os.path.abspath(other))
    return "refusing to write the output over an input file" + ("" if same else f" ({other})")


def check_output(path: Optional[str], protected: Sequence[str] = (),
                 model_dirs: Sequence[str] = ()) -> Optional[Path]:
    """Where ``--out PATH`` really writes (its real path), or ``None`` for standard output (``-``).

    Raises
    ------
    InputError when PATH resolves to one of ``protected``, lies in a model's
    knowledge/ or rules/ folder, is not a regular file, is a dangling link,
    is read-only, or its folder is missing or not writable.
    """
    if path is None or str(path) == "-":
        return None
    shown = str(path)
    if not shown.strip():
        raise _problem(shown or "''", "empty output path")
    try:
        info = os.stat(shown)
    except FileNotFoundError:
        info = None
        if os.path.islink(shown):
            raise _problem(shown, f"is a symbolic link to a missing file ({os.readlink(shown)}); "
                                  f"give the real path") from None
    except NotADirectoryError:
        raise _problem(shown, "cannot write: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise _problem(shown, f"cannot write: {_reason(exc)}") from None
    real = os.path.realpath(shown)
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise _problem(shown, "is a folder; give a file name")
        if not stat.S_ISREG(info.st_mode):
            raise _problem(shown, "is not a regular file (a device, pipe or socket such as /dev/stdout); "
                                  "use --out - for standard output")
        identity = (info.st_dev, info.st_ino)
        for other in protected:
            if _identity(other) == identity:
                raise _problem(shown, _refusal(shown, other))
        if not info.st_mode & 0o222 or not os.access(shown, os.W_OK):
            raise _problem(shown, "cannot write: permission denied (the file is read-only)")
    else:
        for other in protected:   # a file the command will create (a new --db) has no inode yet
            if os.path.realpath(other) == real:
                raise _problem(shown, _refusal(shown, other))
    for directory in model_dirs:
        if directory is None:
            continue
        for sub in ("knowledge", "rules"):
            folder = os.path.realpath(os.path.join(directory, sub))
            if _inside(real, folder):
                raise _problem(shown, f"refusing to write into the model folder {os.path.join(directory, sub)}")
    parent = os.path.dirname(real) or "."
    if not os.path.isdir(parent):
        raise _problem(shown, f"cannot write: no such folder {os.path.dirname(shown) or '.'}")
    if info is None and not os.access(parent, os.W_OK | os.X_OK):
        raise _problem(shown, "cannot write: permission denied")
    return Path(real)


def check_directory(directory: str, model_dirs: Sequence[str] = ()) -> Path:
    """A folder ``kb init`` may create or fill: new or empty, not a link to nowhere, not inside a model in use.

    Raises
    ------
    InputError naming the folder.
    """
    shown = str(directory)
    if os.path.islink(shown) and not os.path.exists(shown):
        raise _problem(shown, f"is a symbolic link to a missing folder ({os.readlink(shown)})")
    target = Path(shown)
    real = os.path.realpath(shown)
    for model in model_dirs:
        folder = os.path.realpath(model)
        if _inside(real, folder) or _inside(folder, real):
            raise _problem(shown, f"refusing to create a model in or around the model folder {model}")
    try:
        if target.exists():
            if not target.is_dir():
                raise _problem(shown, "exists and is not a folder")
            if any(target.iterdir()):
                raise _problem(shown, "directory exists and is not empty; choose a new or empty directory")
    except PermissionError:
        raise _problem(shown, "cannot read: permission denied") from None
    except NotADirectoryError:
        raise _problem(shown, "cannot write: a part of the path is a file, not a folder") from None
    return target


def _mode_for(existing: Optional[os.stat_result]) -> int:
    if existing is not None:
        return stat.S_IMODE(existing.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_temporaries() -> None:
    """Remove every temporary output file of this process (on SIGINT/SIGTERM)."""
    for name in list(_TEMPORARIES):
        try:
            os.unlink(name)
        except OSError:
            pass
        _TEMPORARIES.discard(name)


def _remove_stale(target: Path) -> None:
    """Remove the temporary files a killed (SIGKILL) earlier run left beside ``target``.

    Their names carry the writer's process id; only those whose process is gone are removed.
    """
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue            # still running: another writer's file
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError):
            continue
        try:
            os.unlink(target.parent / name)
        except OSError:
            pass


class AtomicFile:
    """A file written as a stream and put in place only when complete.

    ``with AtomicFile(target, shown) as stream:`` — ``target`` from
    :func:`check_output`; ``text=True`` gives a UTF-8 text stream. On an
    exception (or a stop) the temporary file is removed and the target is
    left as it was.

    Raises
    ------
    InputError when the temporary file cannot be created or moved into place.
    """

    def __init__(self, target: Path, shown: Optional[str] = None, text: bool = True):
        self.target = Path(target)
        self.shown = shown or str(target)
        self.text = text
        self.stream = None
        self.temporary: Optional[str] = None

    def __enter__(self):
        try:
            existing = os.stat(self.target)
        except OSError:
            existing = None
        _remove_stale(self.target)
        try:
            handle, self.temporary = tempfile.mkstemp(prefix=f".{self.target.name}.{os.getpid()}.", suffix=".tmp",
                                                      dir=str(self.target.parent))
        except OSError as exc:
            raise _problem(self.shown, f"cannot write: {_reason(exc)}") from None
        _TEMPORARIES.add(self.temporary)
        try:
            os.fchmod(handle, _mode_for(existing))
        except OSError:
            pass
        if self.text:
            self.stream = os.fdopen(handle, "w", encoding="utf-8", newline="")
        else:
            # a batch writes a line of several KB per company: with the default 8 KB buffer that was a system
            # call for nearly every line (issue 13)
            self.stream = os.fdopen(handle, "wb", buffering=_WRITE_BUFFER)
        return self.stream

    def __exit__(self, kind, value, tb):
        try:
            if kind is None:
                self.stream.flush()
                os.fsync(self.stream.fileno())
            self.stream.close()
            if kind is None:
                os.replace(self.temporary, self.target)
                _TEMPORARIES.discard(self.temporary)
                return False
        except OSError as exc:
            self._discard()
            raise _problem(self.shown, f"cannot write: {_reason(exc)}") from None
        self._discard()
        return False

    def _discard(self) -> None:
        try:
            if self.stream is not None and not self.stream.closed:
                self.stream.close()
        except OSError:
            pass
        try:
            if self.temporary is not None:
                os.unlink(self.temporary)
        except OSError:
            pass
        _TEMPORARIES.discard(self.temporary)


def write_atomic(path: str, content, protected: Sequence[str] = (), model_dirs: Sequence[str] = ()) -> None:
    """Check ``path`` (:func:`check_output`) and write ``content`` (str or bytes) there atomically.

    ``path`` must not be ``-``: standard output is the caller's business.

    Raises
    ------
    InputError when ``path`` is refused or cannot be written.
    """
    target = check_output(path, protected, model_dirs)
    if target is None:
        raise ValueError("write_atomic needs a file path, not '-'")
    data = content.encode("utf-8") if isinstance(content, str) else content
    with AtomicFile(target, str(path), text=False) as stream:
        try:
            stream.write(data)
        except OSError as exc:
            raise _problem(str(path), f"cannot write: {_reason(exc)}") from None
