"""Splitting long replies for platforms that cap message length (Telegram 4096, Discord 2000)."""

from __future__ import annotations

import re


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph boundaries, then at line ends, then hard, so no chunk exceeds the limit."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        piece = paragraph if not current else "\n\n" + paragraph
        if len(current) + len(piece) <= limit:
            current += piece
            continue
        if current:
            chunks.append(current)
        current = ""
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            chunks.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip("\n")
        current = paragraph
    if current:
        chunks.append(current)
    return chunks


def parse_command(text: str) -> tuple[str, tuple[str, ...]] | None:
    """ "/name arg ..." as (name, args); None for plain text. A "@bot" suffix on the name is dropped."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2 or stripped[1].isspace():
        return None
    head, *args = stripped[1:].split()
    return head.split("@")[0].lower(), tuple(args)


_FENCE = re.compile(r"```[^\n`]*\n?(.*?)```", re.S)


def fenced_parts(text: str) -> list[tuple[bool, str]]:
    """Engine text with ``` fenced blocks (code, query results) as (is_code, text) pieces, in order;
    platforms draw the code pieces in monospace. An unclosed fence runs to the end."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _FENCE.finditer(text):
        if m.start() > pos:
            parts.append((False, text[pos : m.start()]))
        parts.append((True, m.group(1).strip("\n")))
        pos = m.end()
    rest = text[pos:]
    if "```" in rest:
        before, _, code = rest.partition("```")
        parts += [(False, before), (True, code.split("\n", 1)[-1] if "\n" in code else code)]
    elif rest:
        parts.append((False, rest))
    return [(code, t) for code, t in parts if t]


def split_keeping_fences(text: str, limit: int) -> list[str]:
    """`split_text`, with a fence cut by a split closed at the end of its chunk and reopened in the next."""
    chunks = split_text(text, limit - 8)
    out: list[str] = []
    carry = False
    for chunk in chunks:
        if carry:
            chunk = "```\n" + chunk
        carry = chunk.count("```") % 2 == 1
        out.append(chunk + "\n```" if carry else chunk)
    return out
