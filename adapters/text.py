"""Splitting long replies for platforms that cap message length (Telegram 4096, Discord 2000)."""

from __future__ import annotations


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
