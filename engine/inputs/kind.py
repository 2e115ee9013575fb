"""What kind of file an input is, told from its first bytes (issue 10): YAML/JSON text, an XLSX workbook,
or a file of another kind (a Word document, a PDF, a CSV, ...) named as such, never parsed as YAML."""
from __future__ import annotations

from typing import Optional

from ..errors import InputError, Problem

__all__ = ["input_kind", "file_kind", "corrupt_workbook_errors"]


def corrupt_workbook_errors() -> tuple:
    """The exceptions a damaged workbook raises while openpyxl reads it (imported only when a workbook is read)."""
    import xml.etree.ElementTree as ElementTree
    import zipfile
    import zlib
    return (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError, UnicodeDecodeError)


_USE = "qmgrade reads YAML or JSON assessments and the XLSX questionnaire that qmgrade template writes"
_MAGIC = (   # (leading bytes, what the file is): named, never parsed as YAML (issue 10)
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Office file (.xls or .doc): open it in Excel or WPS and "
                                          "save it as .xlsx"),
    (b"\x89PNG\r\n\x1a\n", "an image (PNG)"),
    (b"\xff\xd8\xff", "an image (JPEG)"),
    (b"GIF87a", "an image (GIF)"),
    (b"GIF89a", "an image (GIF)"),
    (b"II*\x00", "an image (TIFF)"),
    (b"MM\x00*", "an image (TIFF)"),
    (b"BM", None),   # a bitmap only with its header size below
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", None),
    (b"{\\rtf", "a Word document (RTF)"),
    (b"\x7fELF", "a program"),
)
_ZIP_PARTS = (("word/", "a Word document (.docx)"), ("ppt/", "a PowerPoint presentation (.pptx)"))
_ODF = {"application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (.ods): save it as .xlsx",
        "application/vnd.oasis.opendocument.text": "an OpenDocument text (.odt)"}


def _describe_zip(path: str) -> Optional[str]:
    """None for an XLSX workbook; else what the zip archive is."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
                return None
            for prefix, what in _ZIP_PARTS:
                if any(n.startswith(prefix) for n in names):
                    return what
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                if kind in _ODF:
                    return _ODF[kind]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError):
        return "a damaged zip archive"
    return "a zip archive that is not an XLSX workbook"


def file_kind(path: str) -> Optional[str]:
    """What a file is by its first bytes when it is no input of qmgrade's ("a PDF", "a Word document (.docx)",
    ...), else None (a workbook, text, or a file that cannot be read)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    what = _described(path, head)
    return None if what is None else what.partition(": ")[0]


def _described(path: str, head: bytes) -> Optional[str]:
    what = None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        what = _describe_zip(path)
    else:
        for magic, name in _MAGIC:
            if head.startswith(magic):
                what = name or (_bitmap(head) if magic == b"BM" else "a bzip2 archive")
                break
    if what is None and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower().startswith((b"<!doctype html", b"<html")):
        what = "a web page (HTML)"
    return what


def input_kind(path: str) -> str:
    """What an assessment file holds, from its first bytes (and name): ``"xlsx"`` or ``"text"`` (YAML/JSON).

    Raises
    ------
    InputError naming what the file is when qmgrade cannot read it as an
    assessment: a Word document, a PDF, an image, a zip that is not a
    workbook, a CSV or JSON Lines file (those are ``qmgrade batch`` inputs).
    A missing file or a folder is left to the reader, which says so.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return "xlsx" if path.lower().endswith((".xlsx", ".xlsm")) else "text"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) and _describe_zip(path) is None:
        return "xlsx"
    what = _described(path, head)
    if what is not None:
        what, _, advice = what.partition(": ")
        advice = f": {advice}" if advice else f"; {_USE}"
        raise InputError(Problem(path, 1, 1, f"this is {what}, not an assessment{advice}", "file-type"))
    lowered = path.lower()
    if lowered.endswith((".xlsx", ".xlsm")):
        raise InputError(Problem(path, 1, 1, "not an XLSX workbook (not a zip archive): save it from Excel or WPS "
                                             "as .xlsx", "file-type"))
    first = head.split(b"\n", 1)[0].lower()
    if lowered.endswith((".csv", ".tsv")) or (b"company_id" in first and any(d in first for d in (b",", b";", b"\t"))):
        raise InputError(Problem(path, 1, 1, "this is a CSV file: use `qmgrade batch` (one row per company, one "
                                             "column per criterion id) to grade it", "file-type"))
    if lowered.endswith((".jsonl", ".ndjson")):
        raise InputError(Problem(path, 1, 1, "this is a JSON Lines file (one assessment a line): use `qmgrade "
                                             "batch` to grade it", "file-type"))
    return "text"


def _bitmap(head: bytes) -> Optional[str]:
    return "an image (BMP)" if len(head) >= 18 and head[14:18] in (b"\x0c\x00\x00\x00", b"(\x00\x00\x00",
                                                                       b"|\x00\x00\x00", b"l\x00\x00\x00") else None
