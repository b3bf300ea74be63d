"""One CSV per main class (and one for evidence), columns in the model's stable order.

Cells are text: IRIs identify resources (several joined with ``|``), dates keep their
lexical form. Cells a spreadsheet would execute (= + - @ tab CR first) get a leading
apostrophe, the OWASP-recommended neutralisation.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell
