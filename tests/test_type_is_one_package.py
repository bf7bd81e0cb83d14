"""A document type is one package: a type added from outside `pipeline/` (the `memo` package
in tests/extra_type/, with its own migration) goes through the pipeline with the real model,
storage, the records API and the review page, and no other file names it."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.conftest import ROOT

DB = "docket_extra_type"


def test_an_extra_type_package_works_end_to_end() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DB}")
    env = {**os.environ, "DOCKET_EXTRA_DOCTYPES": "tests.extra_type", "PYTHONPATH": str(ROOT),
           "DOCKET_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{DB}"}
    result = subprocess.run([sys.executable, "-m", "tests.extra_type.run_through"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert "memo" in seen["registered"]
    assert seen["status"]["document_type"] == "memo"
    assert seen["status"]["status"] in ("done", "needs_review")  # extracted, never failed
    row = seen["table_row"]  # the record reached the type's own table
    code, listed = seen["listed"]
    assert code == 200 and listed["total"] == 1 and listed["document_type"] == "memo"
    assert {k: listed["items"][0][k] for k in row} == row  # the view shows what was stored
    code, detail = seen["detail"]
    assert code == 200 and detail["record"]["subject"] == row["subject"]
    assert len(detail["children"]) == detail["record"]["recipient_count"]
    assert detail["document_type"] == "memo" and detail["run"]["source"] == "model"
    code, page = seen["page"]
    assert code == 200 and 'name="field:subject"' in page and "recipients" in page
    code, corrected = seen["corrected"]
    assert code == 200, corrected
    assert corrected["record"]["subject"] == "Quarterly supplier payment review"
    code, after = seen["after"]
    assert after["record"]["subject"] == "Quarterly supplier payment review"
    assert after["record"]["reviewed"] is True


def _names_in_code(path: Path) -> list[str]:
    """Code (not docstrings or comments) in this file that names a built-in type or dataset:
    string literals, variables and attributes."""
    pattern = re.compile(r"receipt|contract|sroie|kleister", re.IGNORECASE)
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value if id(node) not in docstrings else ""
        else:
            text = getattr(node, "id", None) or getattr(node, "attr", None) or ""
        if pattern.search(text):
            found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {text[:60]!r}")
    return found


def test_no_code_outside_a_type_package_names_a_type() -> None:
    """The pipeline's shared code reads the registry; only a type's package (and prose:
    docstrings, comments, tests, docs) names a type or its dataset."""
    offenders = []
    for path in sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]):
        rel = path.relative_to(ROOT).parts
        if rel[:2] == ("pipeline", "doctypes") and len(rel) > 3:
            continue  # inside a type's package
        offenders += _names_in_code(path)
    assert offenders == []
