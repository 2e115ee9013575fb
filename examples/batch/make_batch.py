"""Write the nine example assessments as batch inputs for `qmgrade batch`.

    python examples/batch/make_batch.py [--out DIR]

companies.jsonl  one assessment object per line, exactly as in the example files
                 (company with its profile, assessed_on, dated facts, ratings).
wide.csv         the wide layout of survey tools, UTF-8 with a byte-order mark so that
                 spreadsheet programs read the Chinese text: company_id, company_name,
                 industry, region, assessed_on, then one column per criterion id of the
                 shipped model, then the veto-fact column product_recall_3y.
wide-gb18030.csv the same table as Chinese Excel or WPS saves it: GB18030 without a
                 byte-order mark, Windows line ends, ratings written as Chinese labels
                 (全部满足, 基本满足, 部分满足, 不满足, 不适用) and the fact as 是/否.

The wide layout has no profile column and cannot hold a list of dated events, so a row
spells out what the file says through its profile (`na` on each not-applicable criterion
the file leaves unrated) and gives a dated recall as the model 1.0.0 fact
`product_recall_3y` (the same cap level; the lift date is then not known). Unrated
criteria stay empty cells. Run it again whenever an example changes.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent
sys.path.insert(0, str(EXAMPLES.parent))

import engine  # noqa: E402  (the repository's engine, for the shipped model's criteria and profiles)

COMPANY_COLUMNS = ["company_id", "company_name", "industry", "region", "assessed_on"]
FACT_COLUMNS = ["product_recall_3y"]


def example_files() -> list:
    """The example files in the order of expected.yaml."""
    expected = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
    return [EXAMPLES / name for name in expected]


def jsonl_line(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def wide_row(document: dict, model) -> list:
    company = document["company"]
    ratings = dict(document["ratings"])
    profile = company.get("profile")
    if profile:
        for criterion in model.profiles_by_id[profile].not_applicable:
            ratings.setdefault(criterion, "na")
    recalls = (document.get("facts") or {}).get("product_recall") or []
    row = [company["id"], company["name"], company.get("industry", ""), company.get("region", ""),
           str(document.get("assessed_on", ""))]
    row += [ratings.get(criterion, "") for criterion in model.criteria]
    row += ["true" if recalls else "false"]
    return row


CHINESE = {"full": "全部满足", "largely": "基本满足", "partial": "部分满足", "none": "不满足", "na": "不适用",
           "true": "是", "false": "否"}


def in_chinese(row: list) -> list:
    """A wide row as a Chinese office writes it: labels and 是/否 in Chinese, numbers as they are."""
    return row[:len(COMPANY_COLUMNS)] + [CHINESE.get(str(cell), cell) for cell in row[len(COMPANY_COLUMNS):]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: examples/batch)")
    args = parser.parse_args(argv)
    model = engine.load_model()
    documents = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in example_files()]
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "companies.jsonl", "w", encoding="utf-8", newline="\n") as out:
        for document in documents:
            out.write(jsonl_line(document) + "\n")
    with open(args.out / "wide.csv", "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COMPANY_COLUMNS + list(model.criteria) + FACT_COLUMNS)
        for document in documents:
            writer.writerow(wide_row(document, model))
    with open(args.out / "wide-gb18030.csv", "w", encoding="gb18030", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COMPANY_COLUMNS + list(model.criteria) + FACT_COLUMNS)
        for document in documents:
            writer.writerow(in_chinese(wide_row(document, model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
