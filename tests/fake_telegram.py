"""A fake Telegram Bot API on 127.0.0.1 that the real python-telegram-bot talks to via base_url.

It speaks the wire format (form fields with JSON-encoded objects, dates in seconds, update ids,
long polling with offset and timeout) and rejects what the real server rejects: unknown methods,
missing required fields (checked against ../shared/telegram-bot-api/api.json when present) and
texts or polls over their limits. Faults (429 with retry_after, 5xx, 403, slow replies) can be injected.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.loopback import serve_on_loopback

API_JSON = Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api.json"
BOT = {"id": 7000000001, "is_bot": True, "first_name": "Mock Interviewer", "username": "mock_interviewer_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}  # fmt: skip
FALLBACK_METHODS = {
    "getMe": [], "getWebhookInfo": [], "getUpdates": [], "deleteWebhook": [], "setWebhook": ["url"], "setMyCommands": ["commands"], "sendMessage": ["chat_id", "text"],
    "sendPoll": ["chat_id", "question", "options"], "answerCallbackQuery": ["callback_query_id"],
    "sendChatAction": ["chat_id", "action"], "getChatMember": ["chat_id", "user_id"], "sendDocument": ["chat_id", "document"],
    "sendPhoto": ["chat_id", "photo"], "close": [], "logOut": [],
}  # fmt: skip


def load_spec() -> dict[str, list[str]] | None:
    if not API_JSON.exists():
        return None
    spec = json.loads(API_JSON.read_text())
    return {name: [f["name"] for f in m.get("fields", []) if f.get("required")] for name, m in spec["methods"].items()}


def load_fields() -> dict[str, set[str]] | None:
    """Every parameter each method takes: the real server ignores others, so a misspelt one (a
    topic id under the wrong name) would silently do nothing there; here it is rejected."""
    if not API_JSON.exists():
        return None
    spec = json.loads(API_JSON.read_text())
    return {name: {f["name"] for f in m.get("fields", [])} for name, m in spec["methods"].items()}


class ApiError(Exception):
    def __init__(
        self, code: int, description: str, retry_after: int | None = None, migrate_to: int | None = None
    ) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after
        self.migrate_to = migrate_to


@dataclass
class Fault:
    method: str
    status: int
    times: int
    retry_after: int | None = None
    chat_id: str | None = None
    delay: float = 0.0
    migrate_to: int | None = None


@dataclass
class FakeTelegram:
    token: str
    spec: dict[str, list[str]] | None = field(default_factory=load_spec)
    fields: dict[str, set[str]] | None = field(default_factory=load_fields)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    admins: set[tuple[int, int]] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    on_call: Callable[[str, dict[str, Any]], object] | None = None  # runs (or is awaited) as each method is answered
    url: str = ""
    webhook: dict[str, Any] = field(default_factory=lambda: {"url": "", "pending_update_count": 0})
    _update_id: int = 100
    _message_id: int = 1000
    _poll_id: int = 0
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------------ test helpers

    def push(self, kind: str, body: dict[str, Any], *, update_id: int | None = None) -> int:
        if update_id is None:
            self._update_id += 1
            update_id = self._update_id
        self.updates.append({"update_id": update_id, kind: body})
        self._new_update.set()
        return update_id

    def user(self, uid: int, name: str = "Ada") -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": name, "language_code": "en"}

    def chat(self, chat_id: int, kind: str = "private") -> dict[str, Any]:
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": "Ada"}
        return {"id": chat_id, "type": kind, "title": "ML study group"}

    def message(
        self,
        chat_id: int,
        uid: int,
        text: str,
        *,
        kind: str = "private",
        name: str = "Ada",
        reply_to: dict[str, Any] | None = None,
        thread: int | None = None,
    ) -> int:
        self._message_id += 1
        body: dict[str, Any] = {"message_id": self._message_id, "date": int(time.time()), "chat": self.chat(chat_id, kind),
                                "from": self.user(uid, name), "text": text}  # fmt: skip
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            body["reply_to_message"] = reply_to
        if thread is not None:  # a message in a forum topic
            body.update(message_thread_id=thread, is_topic_message=True)
        return self.push("message", body)

    def press(self, chat_id: int, uid: int, data: str, *, kind: str = "private", name: str = "Ada") -> str:
        self._message_id += 1
        query_id = f"q{self._message_id}"
        message = {
            "message_id": self._message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id, kind),
            "from": BOT,
            "text": "…",
        }
        self.push("callback_query", {"id": query_id, "from": self.user(uid, name), "message": message,
                                     "chat_instance": f"ci{chat_id}", "data": data})  # fmt: skip
        return query_id

    def poll_answer(self, poll_id: str, uid: int, option: int, name: str) -> None:
        self.push("poll_answer", {"poll_id": poll_id, "user": self.user(uid, name), "option_ids": [option],
                                  "option_persistent_ids": [f"{poll_id}-o{option}"]})  # fmt: skip

    def fail(
        self,
        method: str,
        status: int,
        times: int = 1,
        *,
        retry_after: int | None = None,
        chat_id: int | None = None,
        delay: float = 0.0,
        migrate_to: int | None = None,
    ) -> None:
        self.faults.append(
            Fault(method, status, times, retry_after, str(chat_id) if chat_id is not None else None, delay, migrate_to)
        )

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.requests if name == method]

    def texts(self, chat_id: int) -> list[str]:
        return [html.unescape(p["text"]) for p in self.calls("sendMessage") if str(p["chat_id"]) == str(chat_id)]

    def buttons(self, chat_id: int) -> dict[str, str]:
        """Label -> callback data of the last keyboard sent to a chat."""
        for params in reversed(self.calls("sendMessage")):
            if str(params["chat_id"]) == str(chat_id) and "reply_markup" in params:
                rows = params["reply_markup"]["inline_keyboard"]
                return {b["text"]: b["callback_data"] for row in rows for b in row}
        return {}

    async def wait_for(self, check: Callable[[], bool], within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met; last requests: {[m for m, _ in self.requests[-8:]]}")
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ server

    async def handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        params = await self._params(request)
        try:
            self._check(method, params)
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method == method
                    and (fault.chat_id is None or str(params.get("chat_id")) == fault.chat_id)
                ):
                    fault.times -= 1
                    if fault.delay:
                        await asyncio.sleep(fault.delay)
                    if fault.status:
                        raise self._fault_error(fault)
            result = await self._call(method, params)
            if self.on_call is not None and method != "getUpdates":
                outcome = self.on_call(method, params)
                if inspect.isawaitable(outcome):  # the answer waits until the test's hook is done
                    await outcome
        except ApiError as exc:
            self.rejected.append((method, exc.description))
            return self._error(exc)
        if method != "getUpdates":
            self.requests.append((method, params))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _fault_error(fault: Fault) -> ApiError:
        if fault.status == 429:
            return ApiError(429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after)
        if fault.status == 403:
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if fault.migrate_to is not None:
            return ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat", None, fault.migrate_to)
        return ApiError(fault.status, "Internal Server Error")

    @staticmethod
    def _error(exc: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None:
            body["parameters"] = {"retry_after": exc.retry_after}
        if exc.migrate_to is not None:
            body["parameters"] = {"migrate_to_chat_id": exc.migrate_to}
        return web.json_response(body, status=exc.code)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, str):
                try:
                    params[key] = json.loads(value) if value[:1] in "[{" or value in ("true", "false") else value
                except json.JSONDecodeError:
                    params[key] = value
            elif isinstance(value, bytes | bytearray):
                params[key] = bytes(value)
            else:
                params[key] = value.file.read()  # an uploaded file
        return params

    def _check(self, method: str, params: dict[str, Any]) -> None:
        spec = self.spec or FALLBACK_METHODS
        if method not in spec:
            raise ApiError(404, "Not Found: method not found")
        for name in spec[method]:
            if name not in params or params[name] in ("", None):
                raise ApiError(400, f"Bad Request: parameter {name} is required")
        unknown = set(params) - self.fields[method] if self.fields else set()
        if unknown:
            raise ApiError(400, f"Bad Request: unknown parameter(s) {sorted(unknown)}")
        if method == "sendMessage":
            text = re.sub(r"<[^>]+>", "", params["text"]) if params.get("parse_mode") == "HTML" else params["text"]
            if not 1 <= len(html.unescape(text)) <= 4096:
                raise ApiError(
                    400, "Bad Request: message is too long" if text else "Bad Request: message text is empty"
                )
            if params.get("parse_mode") == "HTML" and re.search(
                r"<(?!/?(b|i|u|s|a|code|pre|tg-spoiler|blockquote)\b)", params["text"]
            ):
                raise ApiError(400, "Bad Request: can't parse entities: unsupported start tag")
        if "reply_markup" in params:
            for row in params["reply_markup"].get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                    if not button.get("text"):
                        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        if method == "sendPoll":
            options = [o["text"] if isinstance(o, dict) else o for o in params["options"]]
            if (
                not 1 <= len(params["question"]) <= 300
                or not 2 <= len(options) <= 12
                or any(not 1 <= len(o) <= 100 for o in options)
            ):
                raise ApiError(400, "Bad Request: poll question or options have an invalid length")
            if len(params.get("explanation", "")) > 200:
                raise ApiError(400, "Bad Request: poll explanation is too long")
            if "open_period" in params and not 5 <= int(params["open_period"]) <= 600:
                raise ApiError(400, "Bad Request: invalid open_period")
        if method == "setMyCommands":
            for c in params["commands"]:
                if not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) or not 1 <= len(c["description"]) <= 256:
                    raise ApiError(400, "Bad Request: invalid bot command")

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "getWebhookInfo":
            return {"has_custom_certificate": False, **self.webhook}
        if method == "getUpdates":
            offset = int(params.get("offset", 0) or 0)
            timeout = min(float(params.get("timeout", 0) or 0), 2.0)
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if not pending and timeout:
                self._new_update.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
                pending = [u for u in self.updates if u["update_id"] >= offset]
            return pending[: int(params.get("limit", 100) or 100)]
        if method in (
            "deleteWebhook",
            "setWebhook",
            "setMyCommands",
            "answerCallbackQuery",
            "sendChatAction",
            "close",
            "logOut",
        ):
            return True
        if method == "getChatMember":
            status = "administrator" if (int(params["chat_id"]), int(params["user_id"])) in self.admins else "member"
            member: dict[str, Any] = {"status": status, "user": self.user(int(params["user_id"]))}
            if status == "administrator":
                member.update({"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                               "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
                               "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                               "can_edit_stories": False, "can_delete_stories": False})  # fmt: skip
            return member
        self._message_id += 1
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {"message_id": self._message_id, "date": int(time.time()), "from": BOT,
                                   "chat": self.chat(chat_id, "private" if chat_id > 0 else "supergroup")}  # fmt: skip
        if method == "sendMessage":
            message["text"] = html.unescape(re.sub(r"<[^>]+>", "", params["text"]))
        elif method == "sendPoll":
            self._poll_id += 1
            options = [o["text"] if isinstance(o, dict) else o for o in params["options"]]
            message["poll"] = {"id": f"poll{self._poll_id}", "question": params["question"],
                               "options": [{"text": o, "voter_count": 0, "persistent_id": f"poll{self._poll_id}-o{i}"}
                                           for i, o in enumerate(options)], "total_voter_count": 0,
                               "allows_revoting": False, "members_only": False,
                               "is_closed": False, "is_anonymous": params.get("is_anonymous") is True, "type": params.get("type", "regular"),
                               "allows_multiple_answers": False, "correct_option_ids": [int(x) for x in params.get("correct_option_ids", [0])]}  # fmt: skip
        elif method == "sendDocument":
            message["document"] = {"file_id": f"doc{self._message_id}", "file_unique_id": f"u{self._message_id}"}
        elif method == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": f"ph{self._message_id}",
                    "file_unique_id": f"p{self._message_id}",
                    "width": 640,
                    "height": 480,
                }
            ]
        return message


@asynccontextmanager
async def running_fake_telegram(token: str, port: int = 0) -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(token)
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", fake.handle)
    async with serve_on_loopback(app, port) as url:
        fake.url = url
        yield fake
