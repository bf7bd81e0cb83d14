"""A datasheet's condition tables, each read in a model pass of its own (`pipeline.extract.focus`)
over its heading and the lines under it.

The main pass reads the datasheet's opening and its best passages for the product, its SKUs
and its specifications; in one 5,000-character context the model mostly left these tables
empty. Their rows sit under a heading ("Recommended Operating Conditions", "Absolute
Maximum Ratings"), so the passage is that heading and the lines after it (a PDF's text layer
gives a table cell a line). A datasheet without an absolute-maximum heading has no such
table: the list is empty without a model pass.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pipeline.doctypes.base import Focus
from pipeline.doctypes.datasheet.schema import ConditionDraft

# A heading line: "### ", "Table 4: " or "4.2 " before its words, and no colon after them
# (a line is matched joined with the next, so the pattern cannot end at the line's end).
_HEADING = r"^\W*(table \d+\s*:\s*)?(\d+(\.\d+)*\.?\s*)?"

_CONDITION_CUES = tuple(
    (re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in [
        (_HEADING + r"(recommended )?operating conditions\b(?!\s*:)", 5.0),
        (_HEADING + r"ratings\b(?!\s*:)", 2.0),  # a datasheet whose Ratings table is the only one
    ]
)
_MAXIMUM_CUES = tuple(
    (re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in [
        (_HEADING + r"absolute maximum( ratings)?\b(?!\s*:)", 5.0),
    ]
)

ROWS = 60  # lines read after a table's heading, as many as fit the passage


class OperatingConditions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operating_conditions: Annotated[list[ConditionDraft], Field(max_length=16)]


class MaximumRatings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    absolute_maximum_ratings: Annotated[list[ConditionDraft], Field(max_length=16)]


def _question(table: str) -> str:
    return (f"Copy the rows of this datasheet's {table} table as JSON: each row's parameter, "
            "symbol, min, typ, max and unit as printed (null for an empty cell); an empty "
            "list when the passage has no such table.")


FOCUSED = (
    Focus(path="operating_conditions", question=_question("recommended operating conditions"),
          cues=_CONDITION_CUES, answer_model=OperatingConditions, following=ROWS,
          output_tokens=640),
    Focus(path="absolute_maximum_ratings", question=_question("absolute maximum ratings"),
          cues=_MAXIMUM_CUES, answer_model=MaximumRatings, following=ROWS, output_tokens=640),
)
