"""Long documents: the model reads the opening and the clauses that matter, not a blind cut."""

from __future__ import annotations

from pipeline import doctypes
from pipeline.document import Document, Line, Page
from pipeline.extract.context import GAP, context_for, truncated


def _contract(filler_pages: int) -> Document:
    opening = ["MUTUAL NONDISCLOSURE AGREEMENT",
               "This Agreement is entered into as of March 3, 2019 by and between Acme Corp. "
               "and Globex LLC."]
    filler = [f"{n}. The Receiving Party shall protect the information with reasonable care "
              "and use it only for the Purpose described above." for n in range(30)]
    law = ["This Agreement shall be governed by the laws of the State of Delaware.",
           "This Agreement shall remain in effect for a period of two (2) years.",
           "IN WITNESS WHEREOF, the parties have executed this Agreement.",
           "ACME CORP.", "By: /s/ Jane Roe", "Name: Jane Roe", "Title: Chief Executive Officer"]
    pages = [Page(number=1, lines=[Line(text=t) for t in opening])]
    pages += [Page(number=n + 2, lines=[Line(text=t) for t in filler])
              for n in range(filler_pages)]
    pages.append(Page(number=filler_pages + 2, lines=[Line(text=t) for t in law]))
    return Document(converter="test", mime_type="application/pdf", pages=pages)


def test_a_short_document_is_read_whole() -> None:
    doc = _contract(0)
    context = context_for(doc, doctypes.get("contract").cues, 2000)
    assert not context.selected and context.text == doc.text()


def test_selection_keeps_the_governing_law_and_term_that_a_cut_loses() -> None:
    doc = _contract(5)
    context = context_for(doc, doctypes.get("contract").cues, 2000)
    cut = truncated(doc, 2000)
    assert context.selected and len(context.text) <= 2000
    assert "entered into as of March 3, 2019" in context.text  # the opening stays
    assert "State of Delaware" in context.text and "two (2) years" in context.text
    assert "State of Delaware" not in cut and "two (2) years" not in cut
    assert GAP in context.text  # skipped stretches are marked
    assert "Name: Jane Roe" in context.text  # the signature block, for the signatories


def test_types_without_keywords_are_cut_at_the_budget() -> None:
    doc = _contract(5)
    assert context_for(doc, doctypes.get("receipt").cues, 500).text == doc.text()[:500]
