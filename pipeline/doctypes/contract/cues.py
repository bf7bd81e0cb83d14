"""Passage cues of a long contract: phrases that mark a line worth reading, with a weight each.

Parties and dates open a contract (its opening is always read); governing law and term sit
in clauses further in, the signatories in the signature block at its end ("By:", "Name:").
The clauses a reviewer checks have cues of their own (`CLAUSE_CUES`): each clause is read in
its own pass over its own passages, wherever in a long contract they are.
"""

from __future__ import annotations

import re

from pipeline.doctypes.base import Cues

_CUES = [
    (r"govern\w*\b.{0,40}\blaws?\b|\blaws? of (the )?(state|commonwealth|province)", 4.0),
    (r"\bjurisdiction|\bvenue\b|\bcourts? (of|in|located)", 2.0),
    (r"\bterm of\b|\bperiod of\b|\bshall (remain|continue|survive|expire|terminate)", 3.0),
    (r"\b(\w+ )?\(?\d+\)? (years?|months?)\b", 2.5),
    (r"\beffective (date|as of)|\bdated as of\b|\bentered into\b|\bmade (as of|on)\b", 3.0),
    (r"\bby and between\b|\bbetween\b.{0,80}\band\b|\b(inc|corp|llc|ltd|l\.p)\b\.?", 1.5),
    (r"\bterminat\w+|\bexpir\w+", 1.0),
    (r"^\s*(name|by|signature|signed|print(ed)? name)\s*[:.]", 2.5),
    (r"\bin witness whereof\b|\bduly (authorized|executed)\b", 2.0),
    (r"\brenew\w*|\bsuccessive\b|\bautomatic\w*\b.{0,40}\bextend", 3.0),
]

# Each reviewed clause's own cues, the clearest wording first: a clause is read in a pass of
# its own over the passages these pick (`contract.clauses`).
_CLAUSE_CUES: dict[str, list[tuple[str, float]]] = {
    "change_of_control": [
        (r"\bchange (of|in) (the )?control\b", 4.0),
        (r"\bmerger\b|\bconsolidat\w+|\ball or substantially all\b"
         r"|\bacqui\w+\b.{0,60}\b(voting|control|stock|shares|assets)", 2.5),
    ],
    "anti_assignment": [
        (r"\b(not|no|neither)\b.{0,80}\bassign", 4.0),
        (r"\bassign\w*\b.{0,120}\b(prior )?(written )?consent\b", 3.0),
    ],
    "termination_for_convenience": [
        (r"\bterminat\w*\b.{0,120}\b(for (its |any |no )?(convenience|any reason|no reason)"
         r"|without (cause|reason)|at any time)", 4.0),
        (r"\b(upon|with|by giving|on)\b.{0,30}\b(\w+ )?\(?\d+\)? days'?\b.{0,40}"
         r"\b(prior )?(written )?notice\b.{0,80}\bterminat", 2.0),
    ],
    "non_compete": [
        (r"\bnon-?compet\w*|\b(not|no)\b.{0,80}\bcompet\w+", 4.0),
        (r"\bcompet\w+|\bnon-?solicit\w*", 2.5),
    ],
    "exclusivity": [
        (r"(?<!non-)(?<!non)\bexclusiv\w+", 3.5),
        (r"\bsole (and exclusive )?(source|supplier|distributor|provider|licensee)"
         r"|\bshall not\b.{0,80}\b(purchase|obtain|appoint|grant)\b.{0,80}\b(other|third)", 2.5),
    ],
    "cap_on_liability": [
        (r"\b(aggregate|total|cumulative|maximum|entire) liabilit\w+"
         r"|\bliabilit\w+\b.{0,200}\b(exceed|limited to|in excess of|not to exceed)", 4.0),
        (r"\b(not|no|neither)\b.{0,60}\bliable\b"
         r"|\bliable\b.{0,80}\b(indirect|consequential|incidental|special|punitive)", 3.0),
        (r"\bin no event\b|\blimitation of liability|\bconsequential damages", 2.5),
    ],
}


def _compiled(cues: list[tuple[str, float]]) -> Cues:
    return tuple((re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in cues)


CUES = _compiled(_CUES)
CLAUSE_CUES = {name: _compiled(cues) for name, cues in _CLAUSE_CUES.items()}
