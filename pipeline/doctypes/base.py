"""What a document type and a labelled dataset are: the two things a type package declares.

A type package (`pipeline/doctypes/<name>/`) defines `DOCTYPE` (a `DocType`) and, when it has
labelled documents, `DATASETS` (a tuple of `Dataset`). Nothing outside the package names the
type: the router's classes, the API's response unions, CLI choices, review hints, training
targets and eval scorers are all read from these two objects.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.common import RuleViolation, parse_money

Cues = tuple[tuple[re.Pattern[str], float], ...]
# The key under which a source carries its hand-written labels (one JSON object), beside the
# dataset's own labels; scorers and recall measures of the dataset's labels skip it.
HAND = "hand"


@dataclass(frozen=True)
class Aggregate:
    """Groups of a type's records, served at /v1/aggregates/<view>/<name> with the records
    filters. SQL fragments are fixed text of the type's package, never user input."""

    name: str
    description: str  # the route's help
    row_model: type[BaseModel]  # one group
    select: str  # the group's columns over the view, e.g. "currency, sum(total) AS total"
    group_by: str
    where: str | None = None  # a condition every grouped row meets
    sortable: tuple[str, ...] = ()  # whitelisted `sort` columns (the row's)
    default_sort: str = ""
    tie_breakers: tuple[str, ...] = ()  # make pages stable


@dataclass(frozen=True)
class QueryConfig:
    """How analysts query a type (pipeline.storage.analytics, the records API, `docket export`)."""

    view: str  # in schema analytics: one row per record
    date_column: str  # date_from / date_to
    name_column: str  # the `name` filter: a text column, or a text[] one (any element)
    row_model: type[BaseModel]  # a row of `view`
    children_view: str  # in schema analytics: the record's list rows
    children_order: str  # their order column
    child_model: type[BaseModel]
    sortable: tuple[str, ...]  # whitelisted `sort` columns
    default_sort: str  # '-col' for descending
    amount_column: str | None = None  # min_total / max_total; None: the type has no amount
    name_is_array: bool = False
    name_means: str = "name"  # what the `name` filter matches, in words (help texts)
    extra_views: tuple[str, ...] = ()  # the type's other analytics views (for `docket query`)
    aggregates: tuple[Aggregate, ...] = ()


@dataclass(frozen=True)
class Focus:
    """A field a long document may hold on any page, answered in a model pass of its own over
    the passages its own cues pick (`pipeline.extract.focus`): a contract's clauses, a
    datasheet's condition tables."""

    path: str  # the draft field it fills: "clauses.change_of_control"
    question: str  # what the model is asked, in the prompt's first line
    cues: Cues
    answer_model: type[BaseModel]  # the pass's schema: one field, whose value fills `path`
    context_chars: int = 1600
    output_tokens: int = 256
    following: int = 0  # lines kept after a cue line: a table under its heading (context.select)

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


@dataclass(frozen=True)
class DocType:
    name: str
    description: str  # one line, used in help texts and the API description
    draft_model: type[BaseModel]  # what the model writes (constrained decoding schema)
    record_model: type[BaseModel]  # what is validated and stored
    to_record: Callable[[Any], BaseModel]
    check_rules: Callable[[Any, dt.date | None], list[RuleViolation]]
    instruction: str  # the extraction prompt's instruction
    table: str  # typed table for the record's scalar fields, keyed by document_id
    child_tables: dict[str, str] = field(default_factory=dict)  # list field → child table
    adapter: str | None = None  # folder name under adapters/, if one is trained
    context_chars: int = 6000  # of the document the model reads (see pipeline.extract.context)
    # The answer's token budget: enough for the type's longest lists (settings.max_new_tokens,
    # DOCKET_MAX_NEW_TOKENS, sets one budget for every type instead).
    output_tokens: int = 384
    cues: Cues = ()  # passage cues: phrases that mark a line of a long document worth reading
    head_chars: int | None = None  # of a long document's opening always read (None: 40%)
    query: QueryConfig | None = None  # None: not in the analytics views
    # Review form: a schema pattern → what it accepts, in words a reviewer understands.
    pattern_hints: dict[str, str] = field(default_factory=dict)
    # What `docket run` / `docket status` show of a record first (a list field: its length,
    # or its entries' names).
    summary_fields: tuple[str, ...] = ()
    # Router training: where the extra window of each train document starts (fractions).
    router_windows: tuple[float, ...] = (0.25,)
    # Draft fields holding a date as printed: completed by the year the document prints right
    # after a copy that stopped short of it (pipeline.extract.completion).
    date_fields: tuple[str, ...] = ()
    # Router training: documents of other kinds that look like this type (a purchase order
    # beside an invoice), labelled unknown, so the router learns to refuse them.
    router_lookalikes: Callable[[], list[Source]] | None = None
    # Fields answered in passes of their own (the main pass writes null there).
    focused: tuple[Focus, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        return self.draft_model.model_json_schema()


@dataclass(frozen=True)
class Source:
    """One document of a dataset (or of the machine's prose, for the router) before conversion."""

    dataset: str  # a registered dataset's name, "other-text" or "samples"
    key: str  # id within the dataset
    label: str  # its document type
    split: str  # "train" or "dev"
    path: Path
    filename: str  # the upload name convert() sees (a hint only)
    snippet_chars: int | None = None  # router negatives: cut the converted text to about this
    window: float = 0.0  # > 0: a later window, from this fraction of the text (augmentation)
    labels: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Score:
    """One document's answer scored against its labels, the dataset's own way."""

    correct: dict[str, bool] = field(default_factory=dict)  # answer path → right?
    loose: dict[str, bool] = field(default_factory=dict)  # the same, letters and digits only
    pairs: tuple[set[tuple[str, str]], set[tuple[str, str]]] = (set(), set())  # pred, gold
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Synthetic:
    """A generated, fully labelled document: its text as OCR would give it, and its draft."""

    key: str
    text: str
    labels: dict[str, Any]


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset in `../shared/datasets/<folder>`: its documents, splits, training
    targets and scorer. Dev documents train nothing; `docket eval` scores them."""

    name: str
    doc_type: str
    folder: str  # under the datasets directory
    description: str
    looks_like: Callable[[Path], bool]  # is this folder in the dataset's layout?
    sources: Callable[[Path], list[Source]]  # every document with labels and split
    # labels + the context the model reads → the target draft and the paths it cannot teach
    target: Callable[[dict[str, list[str]], str], tuple[dict[str, Any], set[str]]]
    score: Callable[[dict[str, list[str]], dict[str, Any]], Score]
    # all documents' scores → {"fields": per-field figures, <headline>: the headline figure}
    summarize: Callable[[list[Score]], dict[str, Any]]
    headline: str  # the summary key of the headline figure, e.g. "f1"
    # does the context hold this labelled value? (the bound passage selection puts on recall)
    holds: Callable[[str, str, str], bool] | None = None
    synthetic: Callable[[int], Synthetic] | None = None  # a generated document from a seed
    default_synthetic: int = 0  # generated documents added to training by default
    # A generated dataset's own folder (its `sources` write it on first use); None: the
    # dataset is a folder of the shared datasets directory.
    generated_in: Path | None = None

    def path(self, datasets_dir: Path) -> Path:
        return self.generated_in or datasets_dir / self.folder


def written_sources(dataset: str, folder: Path, name: str, suffix: str,
                    make: Callable[[int], str], seeds: range, label: str = "unknown",
                    dev_every: int = 4) -> list[Source]:
    """Documents written from seeds as text files (on first use, whole or not at all):
    router look-alikes (labelled unknown) or a dataset's generated documents; every
    `dev_every`-th to dev."""
    out = []
    for n, seed in enumerate(seeds):
        path = folder / f"{name}-{seed}{suffix}"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".part")
            partial.write_text(make(seed))
            partial.replace(path)
        out.append(Source(dataset, path.stem, label,
                          "dev" if n % dev_every == dev_every - 1 else "train", path, path.name))
    return out


def item_key(item: dict[str, Any]) -> tuple[str, Any]:
    """A line item as the scorers compare it: its description's letters and digits, its
    amount as a value."""
    return alnum(item.get("description")), parse_money(item.get("amount"))


def score_items(gold: list[dict[str, Any]], answer: list[dict[str, Any]], scored: Score,
                key: Callable[[dict[str, Any]], Any] = item_key) -> tuple[int, int]:
    """Each labelled list entry is right when an unused answer entry has its key
    (`items[N]`), and each answer entry matching none is wrong (`extra item N`): a runaway
    list costs. Returns (entries missed, answer entries left over)."""
    left = [key(entry) for entry in answer]
    missed = 0
    for n, entry in enumerate(gold):
        wanted = key(entry)
        scored.correct[f"items[{n}]"] = wanted in left
        if wanted in left:
            left.remove(wanted)
        else:
            missed += 1
    for n, _ in enumerate(left):
        scored.correct[f"extra item {n}"] = False
    return missed, len(left)


def pairs_f1(scores: list[Score],
             wanted: Callable[[tuple[str, str]], bool] = lambda pair: True) -> float:
    """F1 over all documents' (key, value) pairs (`Score.pairs`) that `wanted` keeps."""
    def count(pairs: set[tuple[str, str]]) -> int:
        return sum(1 for pair in pairs if wanted(pair))

    tp = sum(count(s.pairs[0] & s.pairs[1]) for s in scores)
    fp = sum(count(s.pairs[0] - s.pairs[1]) for s in scores)
    fn = sum(count(s.pairs[1] - s.pairs[0]) for s in scores)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def json_labels(record: dict[str, Any]) -> dict[str, list[str]]:
    """A labelled record as a source's labels: one JSON value per field, so measures per
    label key (`docket eval`'s context recall) read per field."""
    return {name: [json.dumps(value, ensure_ascii=False)] for name, value in record.items()}


def record_of(labels: dict[str, list[str]]) -> dict[str, Any]:
    """The record `json_labels` made the labels from."""
    return {name: json.loads(values[0]) for name, values in labels.items() if name != HAND}


def read_hand_labels(path: Path, id_key: str,
                     fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """A dataset's hand-written labels (one JSON object a line): document id → its fields."""
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row[id_key]: {name: row[name] for name in fields} for row in rows}


def alnum(text: Any) -> str:
    """Letters and digits only, upper-cased: a comparison blind to spacing, punctuation and
    case (where annotators, OCR and the model disagree most)."""
    return "".join(ch for ch in str(text or "").upper() if ch.isalnum())
