"""Engine replies as Telegram requests: HTML-escaped text within 4096 characters, inline keyboards."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.events import Button

MAX_TEXT = 4096
ROW_CHARS = 30  # a row of buttons fits a phone screen when its labels total about this much


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
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


def escape_chunks(text: str) -> list[str]:
    """Escape for parse_mode=HTML; split first, since escaping lengthens text and entities count after parsing."""
    return [html.escape(chunk, quote=False) for chunk in split_text(text)]


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = [[]]
    width = 0
    for b in buttons:
        label = b.label[:60]
        if rows[-1] and (len(rows[-1]) >= 3 or width + len(label) > ROW_CHARS):
            rows.append([])
            width = 0
        rows[-1].append(InlineKeyboardButton(label, callback_data=b.choice_id))
        width += len(label)
    return InlineKeyboardMarkup(rows)
