"""Split a typed answer into the code to run and the explanation around it.

Candidates paste code fenced (```sql, ```python, ``` or ~~~) or bare. With fences, every fenced
block in the answer's language (or with no language) is code and the rest is the explanation; with
none, the whole answer is code, so an explanation must sit outside a fenced block to be graded.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
_LANGUAGES = {"sql": {"sql", "sqlite", "postgresql", "postgres", "psql"}, "python": {"python", "py", "python3"}}


@dataclass(frozen=True)
class Answer:
    code: str
    explanation: str


def split_answer(text: str, language: str) -> Answer:
    accepted = _LANGUAGES[language] | {""}
    blocks = [m for m in _FENCE.finditer(text) if m.group(2).lower() in accepted]
    if not blocks:
        return Answer(_bare(text), "")
    code = "\n\n".join(textwrap.dedent(m.group(3)).strip("\n") for m in blocks)
    prose = text
    for m in reversed(blocks):
        prose = prose[: m.start()] + prose[m.end() :]
    return Answer(code, " ".join(prose.split()))


def _bare(text: str) -> str:
    """Code without a complete fence: `SELECT 1` typed as inline code, or a fence never closed."""
    text = text.strip()
    if len(text) > 1 and text[0] == text[-1] == "`" and "`" not in text[1:-1]:
        return text[1:-1].strip()
    if text.startswith(("```", "~~~")):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return textwrap.dedent(text).strip("\n")
