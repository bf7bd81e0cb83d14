"""The six reviewed clauses, each read in a model pass of its own (`pipeline.extract.focus`).

A clause may sit anywhere in a 100-page contract. One context of the prompt's size held the
opening of about half of CUAD's labelled clauses, and the model reading it answered six
clauses at once; a pass per clause reads only the passages that clause's cues pick, and asks
one question. A contract none of a clause's cues matches has no such passage: that clause is
absent without a model pass.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pipeline.doctypes.base import Focus
from pipeline.doctypes.contract.cues import CLAUSE_CUES
from pipeline.doctypes.contract.schema import Excerpt

# What each clause is, after CUAD's category descriptions.
_QUESTIONS = {
    "change_of_control": "the change of control clause (a party may terminate, or must "
    "consent or be notified, when the other party is merged, acquired or sells "
    "substantially all of its assets)",
    "anti_assignment": "the anti-assignment clause (consent or notice is needed to assign "
    "the agreement to a third party)",
    "termination_for_convenience": "the termination for convenience clause (a party may "
    "terminate without cause, by giving notice)",
    "non_compete": "the non-compete clause (a party may not compete with the other, or "
    "operate in a business, sector or territory)",
    "exclusivity": "the exclusivity clause (an exclusive dealing commitment: exclusive "
    "rights, buying all requirements from one party, or not dealing with third parties)",
    "cap_on_liability": "the cap on liability clause (a maximum amount of liability, or no "
    "liability for some damages or claims)",
}


class ClauseAnswer(BaseModel):
    """One clause's wording as the contract gives it, or null."""

    model_config = ConfigDict(extra="forbid")
    excerpt: Excerpt


def _question(name: str) -> str:
    return (f"Copy from these passages of a contract {_QUESTIONS[name]} as JSON, word for "
            "word; use null when the passages have no such clause.")


FOCUSED = tuple(
    Focus(path=f"clauses.{name}", question=_question(name), cues=CLAUSE_CUES[name],
          answer_model=ClauseAnswer)
    for name in _QUESTIONS
)
