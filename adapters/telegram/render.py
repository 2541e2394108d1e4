"""Engine replies as Telegram requests: HTML-escaped text within 4096 characters, inline keyboards."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.text import fenced_parts, split_keeping_fences
from bot.core.events import Button, Reply

MAX_TEXT = 4096
ROW_CHARS = 30  # a row of buttons fits a phone screen when its labels total about this much


def escape_chunks(text: str) -> list[str]:
    """Escape for parse_mode=HTML; split first, since escaping lengthens text and entities count after
    parsing. Fenced code (a candidate's query, a diff of results) becomes <pre>, drawn in monospace."""
    return [
        "".join(
            f"<pre>{html.escape(part, quote=False)}</pre>" if code else html.escape(part, quote=False)
            for code, part in fenced_parts(chunk)
        )
        for chunk in split_keeping_fences(text, MAX_TEXT)
    ]


def message_chunks(reply: Reply) -> list[str]:
    """A reply's text as HTML messages, its title (a scorecard's, say) in bold at the top."""
    if not reply.full_text.strip():
        return []
    chunks = escape_chunks(reply.full_text)
    if reply.title:
        title = html.escape(reply.title, quote=False)
        chunks[0] = f"<b>{title}</b>{chunks[0][len(title) :]}"
    return chunks


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
