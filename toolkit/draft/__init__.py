"""`draft`: proposals for a source's facts file, from its text and the corpus (issue 14).

:func:`draft_source` writes ``facts.draft.yaml``; :mod:`toolkit.draft.propose` finds the
proposals, :mod:`toolkit.draft.numbers` reads Chinese numbers and quantities.
"""

from toolkit.draft.write import DRAFT_FILE, DraftResult, draft_source

__all__ = ["DRAFT_FILE", "DraftResult", "draft_source"]
