"""Replies as JSON, so a scheduled send composed once can be sent (or re-sent) after a restart."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from bot.core.events import Attachment, Button, Poll, Reply


def replies_to_json(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    out = []
    for r in replies:
        item: dict[str, Any] = {"text": r.text, "private": r.private}
        if r.title:
            item["title"] = r.title
        if r.answer_choice:
            item["answer_choice"] = r.answer_choice
        if r.closes:
            item["closes"] = r.closes
        if r.buttons:
            item["buttons"] = [[b.label, b.choice_id] for b in r.buttons]
        if r.poll is not None:
            p = r.poll
            item["poll"] = {
                "question": p.question,
                "options": list(p.options),
                "correct_option": p.correct_option,
                "explanation": p.explanation,
                "open_period": p.open_period,
                "ref": p.ref,
            }
        if r.attachment is not None:
            a = r.attachment
            item["attachment"] = {"filename": a.filename, "mime": a.mime, "data": base64.b64encode(a.data).decode()}
        out.append(item)
    return out


def replies_from_json(data: Sequence[dict[str, Any]]) -> list[Reply]:
    out = []
    for item in data:
        poll = item.get("poll")
        att = item.get("attachment")
        out.append(
            Reply(
                item["text"],
                tuple(Button(label, choice) for label, choice in item.get("buttons", [])),
                Poll(
                    poll["question"],
                    tuple(poll["options"]),
                    poll["correct_option"],
                    poll["explanation"],
                    poll["open_period"],
                    poll["ref"],
                )
                if poll
                else None,
                Attachment(att["filename"], base64.b64decode(att["data"]), att["mime"]) if att else None,
                private=bool(item.get("private")),
                title=item.get("title"),
                answer_choice=item.get("answer_choice"),
                closes=item.get("closes"),
            )
        )
    return out
