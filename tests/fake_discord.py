"""A fake Discord on 127.0.0.1 that the real discord.py client connects to: a gateway websocket and
the REST routes the bot uses, speaking Discord's JSON payloads.

The gateway does HELLO, IDENTIFY (token and intents checked), READY, GUILD_CREATE, heartbeats and
their acks, RESUME, zlib-stream compression, and shards (events routed by guild id). REST covers
the current user and application, bulk overwrite of slash commands, interaction callbacks (the
3-second deadline and one acknowledgement each are enforced), follow-ups and the original
response, channel messages (JSON and multipart with files), message edits, typing and DM channels.
It rejects what Discord rejects (over-long content, too many buttons, bad custom ids, empty
messages, malformed commands) with Discord's error bodies, and can inject 429s, 5xx, 403s and
slow answers. Ephemeral messages are kept with the user they were shown to.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.loopback import serve_on_loopback

DISCORD_EPOCH_MS = 1420070400000
ACK_DEADLINE = 3.0
EPHEMERAL, LOADING = 1 << 6, 1 << 7
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 31)
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
_ids = itertools.count(1)


def snowflake() -> int:
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_ids) % 4096)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def invalid(reason: str) -> ApiError:
    return ApiError(400, 50035, f"Invalid Form Body: {reason}")


@dataclass
class Fault:
    method: str
    path: str  # a regular expression searched in the request path
    status: int
    times: int
    retry_after: float = 0.5
    delay: float = 0.0
    code: int = 0


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    guild_id: int | None
    created: float
    acked: int | None = None  # the callback type Discord received
    original: dict[str, Any] | None = None
    modal: dict[str, Any] | None = None
    followups: int = 0

    @property
    def answered(self) -> bool:
        """The bot has responded: a modal, a message, or a deferral that has since been followed up."""
        if self.acked in (4, 9):
            return True
        if self.acked == 5:
            return self.original is None or not self.original["flags"] & LOADING or self.followups > 0
        return self.acked == 6 and self.followups > 0


@dataclass
class Session:
    ws: web.WebSocketResponse
    compressor: Any  # zlib.compressobj, or None when the client asked for no compression
    shard: tuple[int, int] = (0, 1)
    seq: int = 0
    session_id: str = ""
    identified: bool = False
    heartbeats: int = 0


@dataclass
class FakeDiscord:
    token: str
    app_id: int = field(default_factory=snowflake)
    bot: dict[str, Any] = field(default_factory=dict)
    guilds: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[int, Interaction] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "global" or a guild id
    faults: list[Fault] = field(default_factory=list)
    blocked_dm: set[int] = field(default_factory=set)  # users whose DMs answer 403 50007
    identify: list[dict[str, Any]] = field(default_factory=list)
    shard_count: int = 1
    sessions: list[Session] = field(default_factory=list)
    dm_channels: dict[int, int] = field(default_factory=dict)  # user id -> DM channel id
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    on_call: Callable[[str, str], object] | None = None  # runs as each REST request is answered
    url: str = ""
    gateway_down: bool = False  # new gateway connections are refused (503), as in an outage

    def __post_init__(self) -> None:
        self.bot = {"id": str(snowflake()), "username": "mock-interviewer", "discriminator": "0",
                    "global_name": "Mock Interviewer", "avatar": None, "bot": True, "verified": True,
                    "mfa_enabled": False, "flags": 0, "public_flags": 0}  # fmt: skip

    # ------------------------------------------------------------------ world

    def user(self, uid: int, name: str = "Ada") -> dict[str, Any]:
        self.users.setdefault(uid, {"id": str(uid), "username": name.lower(), "discriminator": "0",
                                    "global_name": name, "avatar": None, "public_flags": 0})  # fmt: skip
        return self.users[uid]

    def add_guild(self, guild_id: int, channel_id: int, roles: dict[int, str] | None = None) -> None:
        everyone = {"id": str(guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS), "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}  # fmt: skip
        role_list = [everyone] + [
            {**everyone, "id": str(rid), "name": name, "permissions": "0", "position": i + 1}
            for i, (rid, name) in enumerate((roles or {}).items())
        ]
        channel = {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": "ml-study-group",
                   "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                   "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}  # fmt: skip
        self.guilds[guild_id] = {
            "id": str(guild_id), "name": "ML study group", "icon": None, "splash": None, "discovery_splash": None,
            "owner_id": "1", "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "roles": role_list, "emojis": [],
            "features": [], "mfa_level": 0, "system_channel_id": None, "system_channel_flags": 0,
            "rules_channel_id": None, "vanity_url_code": None, "description": None, "banner": None,
            "premium_tier": 0, "preferred_locale": "en-US", "public_updates_channel_id": None, "nsfw_level": 0,
            "stickers": [], "premium_progress_bar_enabled": False, "joined_at": iso_now(), "large": False,
            "unavailable": False, "member_count": 4, "voice_states": [], "members": [], "channels": [channel],
            "threads": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }  # fmt: skip

    def add_channel(self, guild_id: int, channel_id: int, name: str) -> None:
        """Another text channel in a server (the first one added is where commands run by default)."""
        first = self.guilds[guild_id]["channels"][0]
        self.guilds[guild_id]["channels"].append({**first, "id": str(channel_id), "name": name, "position": 1})

    def _channel(self, guild_id: int, channel_id: int | None) -> dict[str, Any]:
        channels = self.guilds[guild_id]["channels"]
        return next((c for c in channels if c["id"] == str(channel_id)), channels[0])

    def dm_channel(self, uid: int) -> int:
        if uid not in self.dm_channels:
            self.dm_channels[uid] = snowflake()
        return self.dm_channels[uid]

    def fail(self, method: str, path: str, status: int, times: int = 1, **kw: Any) -> None:
        self.faults.append(Fault(method, path, status, times, **kw))

    # ------------------------------------------------------------------ what users do

    def _base(self, kind: int, uid: int, channel_id: int, guild_id: int | None, name: str, **member: Any) -> dict[str, Any]:  # fmt: skip
        iid = snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(40)
        self.interactions[iid] = Interaction(iid, token, kind, uid, channel_id, guild_id, time.monotonic())
        user = self.user(uid, name)
        body: dict[str, Any] = {"id": str(iid), "application_id": str(self.app_id), "type": kind, "token": token,
                                "version": 1, "channel_id": str(channel_id), "locale": "en-US",
                                "app_permissions": str(MEMBER_PERMISSIONS), "entitlements": [],
                                "attachment_size_limit": 10 * 1024 * 1024}  # fmt: skip
        if guild_id is not None:
            perms = MEMBER_PERMISSIONS | (MANAGE_GUILD if member.get("manager") else 0)
            body.update(guild_id=str(guild_id), guild_locale="en-US", context=0,
                        authorizing_integration_owners={"0": str(guild_id)},
                        channel=self._channel(guild_id, channel_id),
                        guild={"id": str(guild_id), "locale": "en-US", "features": []},
                        member={"user": user, "nick": None, "avatar": None, "roles": [str(r) for r in member.get("roles", ())],
                                "joined_at": iso_now(), "deaf": False, "mute": False, "flags": 0, "pending": False,
                                "permissions": str(perms)})  # fmt: skip
        else:
            body.update(context=1, user=user, authorizing_integration_owners={"1": str(uid)},
                        channel={"id": str(channel_id), "type": 1, "recipients": [user], "last_message_id": None,
                                 "flags": 0})  # fmt: skip
        return body

    def slash(
        self, uid: int, name: str, options: dict[str, Any] | None = None, *, guild: int | None = None,
        user_name: str = "Ada", channel: int | None = None, **member: Any,
    ) -> int:  # fmt: skip
        """A member runs a slash command (in `channel`, or the server's first channel); returns the interaction id."""
        scope = str(guild) if guild is not None and str(guild) in self.commands else "global"
        command = next((c for c in self.commands.get(scope, []) if c["name"] == name), None)
        assert command is not None, f"/{name} is not registered ({scope}): {[c['name'] for c in self.commands.get(scope, [])]}"  # fmt: skip
        types = {o["name"]: o["type"] for o in command.get("options", [])}
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1,
                                "options": [{"name": k, "type": types[k], "value": v} for k, v in (options or {}).items()]}  # fmt: skip
        if scope != "global":
            data["guild_id"] = scope
        where = self._channel(guild, channel)["id"] if guild is not None else self.dm_channel(uid)
        body = self._base(2, uid, int(where), guild, user_name, **member)
        body["data"] = data
        self.dispatch("INTERACTION_CREATE", body, guild)
        return int(body["id"])

    def click(self, uid: int, message: dict[str, Any], custom_id: str, *, user_name: str = "Ada", **member: Any) -> int:
        """A member presses a button on a message we hold."""
        guild = int(message["guild_id"]) if message.get("guild_id") else None
        body = self._base(3, uid, int(message["channel_id"]), guild, user_name, **member)
        body["data"] = {"custom_id": custom_id, "component_type": 2}
        body["message"] = message
        self.dispatch("INTERACTION_CREATE", body, guild)
        return int(body["id"])

    def submit(self, uid: int, opened_by: int, text: str, *, user_name: str = "Ada", **member: Any) -> int:
        """A member submits the modal that interaction `opened_by` showed them, typing `text`."""
        origin = self.interactions[opened_by]
        assert origin.modal is not None, "that interaction did not open a modal"
        components = []
        for top in origin.modal["components"]:
            if top["type"] == 18:  # a label around one input
                inner = top["component"]
                components.append({"type": 18, "id": top.get("id", 1),
                                   "component": {"type": inner["type"], "id": 2, "custom_id": inner["custom_id"], "value": text}})  # fmt: skip
            else:
                components.append({"type": 1, "components": [{"type": c["type"], "custom_id": c["custom_id"], "value": text}
                                                             for c in top["components"]]})  # fmt: skip
        body = self._base(5, uid, origin.channel_id, origin.guild_id, user_name, **member)
        body["data"] = {"custom_id": origin.modal["custom_id"], "components": components}
        self.dispatch("INTERACTION_CREATE", body, origin.guild_id)
        return int(body["id"])

    def dm(self, uid: int, text: str, *, user_name: str = "Ada", attachments: int = 0) -> int:
        channel = self.dm_channel(uid)
        mid = snowflake()
        body = {"id": str(mid), "channel_id": str(channel), "author": self.user(uid, user_name), "content": text,
                "timestamp": iso_now(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [], "attachments": [
                    {"id": str(snowflake()), "filename": "answer.png", "size": 10, "url": "https://cdn.invalid/a.png",
                     "proxy_url": "https://cdn.invalid/a.png"} for _ in range(attachments)],
                "embeds": [], "pinned": False, "type": 0, "flags": 0}  # fmt: skip
        self.dispatch("MESSAGE_CREATE", body, None)
        return mid

    # ------------------------------------------------------------------ what tests read

    def visible(self, channel_id: int, uid: int) -> list[dict[str, Any]]:
        """Messages in a channel as one member sees them: everything public plus their ephemeral ones."""
        return [
            m for m in self.messages.values()
            if int(m["channel_id"]) == channel_id and (not m["flags"] & EPHEMERAL or m.get("_for") == uid)
        ]  # fmt: skip

    @staticmethod
    def text(message: dict[str, Any]) -> str:
        parts = [message.get("content") or ""]
        for e in message.get("embeds", []):
            parts += [e.get("title", ""), e.get("description", "")]
        return "\n".join(p for p in parts if p)

    def texts(self, channel_id: int, uid: int) -> list[str]:
        return [self.text(m) for m in self.visible(channel_id, uid)]

    def with_button(self, channel_id: int, uid: int, label: str) -> tuple[dict[str, Any], str]:
        """The latest message this member can see with a button so labelled, and its custom id."""
        for m in reversed(self.visible(channel_id, uid)):
            for row in m.get("components", []):
                for b in row.get("components", []):
                    if b.get("label") == label:
                        return m, b["custom_id"]
        raise AssertionError(f"no button {label!r}; last: {self.texts(channel_id, uid)[-1:]}")

    def calls(self, method: str, pattern: str) -> list[Any]:
        return [body for m, path, body in self.requests if m == method and re.search(pattern, path)]

    async def wait_for(self, check: Callable[[], bool], within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met; last requests: {[(m, p) for m, p, _ in self.requests[-6:]]}")
            await asyncio.sleep(0.02)

    async def settle(self, quiet: float = 0.3) -> None:
        count = -1
        while count != len(self.requests):
            count = len(self.requests)
            await asyncio.sleep(quiet)

    # ------------------------------------------------------------------ gateway

    def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        for session in list(self.sessions):
            shard_id, count = session.shard
            mine = (guild_id >> 22) % count == shard_id if guild_id else shard_id == 0
            if session.identified and mine:
                asyncio.get_running_loop().create_task(self._send(session, {"op": 0, "t": event, "d": data}))

    async def _send(self, session: Session, payload: dict[str, Any]) -> None:
        if payload["op"] == 0:
            session.seq += 1
            payload["s"] = session.seq
        raw = json.dumps(payload)
        if session.ws.closed:
            return
        if session.compressor is not None:
            await session.ws.send_bytes(
                session.compressor.compress(raw.encode()) + session.compressor.flush(zlib.Z_SYNC_FLUSH)
            )
        else:
            await session.ws.send_str(raw)

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        query = request.query
        if query.get("v") != "10" or query.get("encoding") != "json":
            raise web.HTTPBadRequest(text="gateway wants v=10 and encoding=json")
        compress = query.get("compress")
        if compress not in (None, "zlib-stream"):
            raise web.HTTPBadRequest(text=f"unsupported compression {compress}")
        if self.gateway_down:
            raise web.HTTPServiceUnavailable(text="gateway unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = Session(ws, zlib.compressobj() if compress else None)
        self.sessions.append(session)
        await self._send(session, {"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_gateway(session, json.loads(msg.data))
        finally:
            self.sessions.remove(session)
        return ws

    async def _on_gateway(self, session: Session, payload: dict[str, Any]) -> None:
        op, d = payload["op"], payload.get("d") or {}
        if op == 1:
            session.heartbeats += 1
            await self._send(session, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            self.identify.append(d)
            if d["token"] != self.token:
                await session.ws.close(code=4004, message=b"Authentication failed.")
                return
            if "intents" not in d:
                await session.ws.close(code=4013, message=b"Invalid intent(s).")
                return
            shard = d.get("shard", (0, 1))
            session.shard = (int(shard[0]), int(shard[1]))
            session.session_id = secrets.token_hex(16)
            session.identified = True
            shard_id, count = session.shard
            mine = [g for g in self.guilds if (g >> 22) % count == shard_id]
            await self._send(session, {"op": 0, "t": "READY", "d": {
                "v": 10, "user": self.bot, "guilds": [{"id": str(g), "unavailable": True} for g in mine],
                "session_id": session.session_id, "resume_gateway_url": self.url.replace("http", "ws") + "/gateway",
                "shard": [shard_id, count], "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [], "presences": [], "relationships": [], "user_settings": {}}})  # fmt: skip
            for g in mine:
                await self._send(session, {"op": 0, "t": "GUILD_CREATE", "d": self.guilds[g]})
        elif op == 6:
            session.identified = True
            await self._send(session, {"op": 0, "t": "RESUMED", "d": {}})

    async def drop_gateway(self, shard: int | None = None) -> None:
        """Close every gateway session (or one shard's), as when the network or Discord goes away."""
        for session in list(self.sessions):
            if shard is None or session.shard[0] == shard:
                await session.ws.close(code=1001)

    # ------------------------------------------------------------------ REST

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        method = request.method
        webhook = re.match(r"^/(webhooks|interactions)/", path)
        if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return self._error(method, path, ApiError(401, 0, "401: Unauthorized"))
        try:
            body = await self._body(request)
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                    fault.times -= 1
                    if fault.delay:
                        await asyncio.sleep(fault.delay)
                    if fault.status:
                        raise self._fault(fault)
            self.requests.append((method, path, body))
            result = await self._route(method, path, body, request)
            if self.on_call is not None:
                self.on_call(method, path)
        except ApiError as exc:
            return self._error(method, path, exc)
        if result is None:
            return web.Response(status=204)
        return _json(result, 200, {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                                   "X-RateLimit-Reset-After": "1.0", "X-RateLimit-Bucket": "b" + path.split("/")[1]})  # fmt: skip

    @staticmethod
    def _fault(fault: Fault) -> ApiError:
        if fault.status == 429:
            return ApiError(429, 0, "You are being rate limited.", fault.retry_after)
        if fault.status == 403:
            return ApiError(403, fault.code or 50007, "Cannot send messages to this user")
        return ApiError(fault.status, 0, "500: Internal Server Error")

    def _error(self, method: str, path: str, exc: ApiError) -> web.Response:
        self.rejected.append((method, path, exc.message))
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        headers = {}
        if exc.retry_after is not None:
            body.update(retry_after=exc.retry_after, **{"global": False})
            headers = {"Retry-After": str(exc.retry_after), "X-RateLimit-Scope": "user"}
        return _json(body, exc.status, headers)

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form["payload_json"]))
            body["_files"] = {k: v.filename for k, v in form.items() if k.startswith("files[")}  # type: ignore[union-attr]
            return body
        if request.can_read_body:
            return await request.json()
        return None

    async def _route(self, method: str, path: str, body: Any, request: web.Request) -> Any:
        if (method, path) == ("GET", "/users/@me"):
            return self.bot
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return {"id": str(self.app_id), "name": "Mock Interviewer", "icon": None, "description": "",
                    "bot_public": True, "bot_require_code_grant": False, "owner": self.user(1, "Owner"),
                    "verify_key": "0" * 64, "flags": 0, "team": None}  # fmt: skip
        if (method, path) == ("GET", "/gateway/bot"):
            return {"url": self.url.replace("http", "ws") + "/gateway", "shards": self.shard_count,
                    "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}  # fmt: skip
        if m := re.fullmatch(rf"/applications/{self.app_id}(?:/guilds/(\d+))?/commands", path):
            if method != "PUT":
                raise ApiError(405, 0, "405: Method Not Allowed")
            return self._put_commands(m.group(1) or "global", body)
        if m := re.fullmatch(r"/interactions/(\d+)/([\w-]+)/callback", path):
            return self._callback(int(m.group(1)), m.group(2), body)
        if m := re.fullmatch(rf"/webhooks/{self.app_id}/([\w-]+)(/messages/@original)?", path):
            return self._webhook(method, m.group(1), bool(m.group(2)), body)
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            if method != "POST":
                raise ApiError(405, 0, "405: Method Not Allowed")
            channel = int(m.group(1))
            if channel in {self.dm_channels[u] for u in self.blocked_dm if u in self.dm_channels}:
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return self._message(channel, body)
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            message = self.messages.get(int(m.group(2)))
            if message is None:
                raise ApiError(404, 10008, "Unknown Message")
            self._check_message(body, partial=True)
            message.update({k: v for k, v in body.items() if not k.startswith("_")}, edited_timestamp=iso_now())
            return message
        if re.fullmatch(r"/channels/(\d+)/typing", path):
            return None
        if (method, path) == ("POST", "/users/@me/channels"):
            uid = int(body["recipient_id"])
            return {"id": str(self.dm_channel(uid)), "type": 1, "recipients": [self.user(uid)],
                    "last_message_id": None, "flags": 0}  # fmt: skip
        raise ApiError(404, 0, f"404: Not Found {method} {path}")

    def _put_commands(self, scope: str, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, list) or len(body) > 100:
            raise invalid("bulk overwrite takes a list of at most 100 commands")
        out = []
        for c in body:
            name = c.get("name", "")
            if not COMMAND_NAME.fullmatch(name) or name != name.lower():
                raise invalid(f"command name {name!r}")
            if not 1 <= len(c.get("description", "")) <= 100:
                raise invalid(f"/{name} description must be 1-100 characters")
            options = c.get("options", [])
            if len(options) > 25:
                raise invalid(f"/{name} has more than 25 options")
            seen_optional = False
            for o in options:
                if not COMMAND_NAME.fullmatch(o["name"]) or not 1 <= len(o.get("description", "")) <= 100:
                    raise invalid(f"/{name} option {o.get('name')!r}")
                if o.get("required") and seen_optional:
                    raise invalid(f"/{name}: required options must come before optional ones")
                seen_optional |= not o.get("required")
                if len(o.get("choices", [])) > 25:
                    raise invalid(f"/{name} option {o['name']} has more than 25 choices")
            out.append({**c, "id": str(snowflake()), "application_id": str(self.app_id), "version": str(snowflake())})
        self.commands[scope] = out
        return out

    def _interaction(self, iid: int, token: str) -> Interaction:
        found = self.interactions.get(iid)
        if found is None or found.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        return found

    def _callback(self, iid: int, token: str, body: Any) -> dict[str, Any]:
        it = self._interaction(iid, token)
        if time.monotonic() - it.created > ACK_DEADLINE:
            raise ApiError(404, 10062, "Unknown interaction")  # the 3-second window has passed
        if it.acked is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        kind, data = body["type"], body.get("data") or {}
        if kind not in (4, 5, 6, 7, 9) or (kind == 9 and it.type == 5) or (kind in (6, 7) and it.type != 3):
            raise invalid(f"callback type {kind} for interaction type {it.type}")
        it.acked = kind
        if kind == 9:
            self._check_modal(data)
            it.modal = data
        elif kind in (4, 5):
            flags = int(data.get("flags", 0)) | (LOADING if kind == 5 else 0)
            it.original = self._message(it.channel_id, {**data, "flags": flags}, interaction=it)
        elif kind == 7:
            raise invalid("message updates are not used by this bot")
        response: dict[str, Any] = {"interaction": {"id": str(iid), "type": it.type}}
        if it.original is not None:
            response["interaction"].update(response_message_id=it.original["id"],
                                           response_message_loading=kind == 5,
                                           response_message_ephemeral=bool(it.original["flags"] & EPHEMERAL))  # fmt: skip
            response["resource"] = {"type": kind, "message": it.original}
        return response

    def _webhook(self, method: str, token: str, original: bool, body: Any) -> Any:
        it = next((i for i in self.interactions.values() if i.token == token), None)
        if it is None or it.acked is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if not original:
            if method != "POST":
                raise ApiError(405, 0, "405: Method Not Allowed")
            it.followups += 1
            return self._message(it.channel_id, body, interaction=it)
        if it.original is None or it.original["id"] not in {str(k) for k in self.messages}:
            raise ApiError(404, 10008, "Unknown Message")
        if method == "DELETE":
            del self.messages[int(it.original["id"])]
            it.original = None
            return None
        if method == "PATCH":
            self._check_message(body, partial=True)
            it.original.update({k: v for k, v in body.items() if not k.startswith("_") and v is not None})
            it.original["flags"] &= ~LOADING
            if "_files" in body:
                it.original["attachments"] = _attachments(body["_files"].values())
            return it.original
        return it.original

    def _message(self, channel_id: int, body: dict[str, Any], interaction: Interaction | None = None) -> dict[str, Any]:
        flags = int(body.get("flags", 0))
        if not flags & LOADING:
            self._check_message(body)
        mid = snowflake()
        guild = next(
            (g for g, v in self.guilds.items() if any(c["id"] == str(channel_id) for c in v["channels"])), None
        )
        message = {"id": str(mid), "channel_id": str(channel_id), "author": self.bot, "content": body.get("content") or "",
                   "timestamp": iso_now(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
                   "mentions": [], "mention_roles": [], "embeds": body.get("embeds") or [],
                   "attachments": _attachments(body.get("_files", {}).values()),
                   "components": body.get("components") or [], "pinned": False,
                   "type": 20 if interaction is not None else 0, "flags": flags}  # fmt: skip
        if guild is not None:
            message["guild_id"] = str(guild)
        if interaction is not None and flags & EPHEMERAL:
            message["_for"] = interaction.user_id
        self.messages[mid] = message
        return message

    @staticmethod
    def _check_message(body: dict[str, Any], partial: bool = False) -> None:
        content = body.get("content") or ""
        if len(content) > 2000:
            raise invalid("content: Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise invalid("embeds: Must be 10 or fewer in length.")
        for e in embeds:
            if len(e.get("title") or "") > 256 or len(e.get("description") or "") > 4096:
                raise invalid("embeds.0: title over 256 or description over 4096 characters")
        rows = body.get("components") or []
        if len(rows) > 5:
            raise invalid("components: Must be 5 or fewer in length.")
        ids: set[str] = set()
        for row in rows:
            buttons = row.get("components", [])
            if row.get("type") != 1 or not 1 <= len(buttons) <= 5:
                raise invalid("components.0: an action row holds 1-5 components")
            for b in buttons:
                cid = b.get("custom_id", "")
                if b.get("type") != 2 or not 1 <= len(cid) <= 100 or len(b.get("label") or "") > 80:
                    raise invalid("components.0.components.0: bad button")
                if cid in ids:
                    raise invalid("components: Custom id cannot be duplicated")
                ids.add(cid)
        if not partial and not (content or embeds or rows or body.get("_files")):
            raise ApiError(400, 50006, "Cannot send an empty message")

    @staticmethod
    def _check_modal(data: dict[str, Any]) -> None:
        if not 1 <= len(data.get("title", "")) <= 45 or not 1 <= len(data.get("custom_id", "")) <= 100:
            raise invalid("data.title or data.custom_id")
        if not 1 <= len(data.get("components", [])) <= 5:
            raise invalid("data.components: a modal holds 1-5 components")


def _attachments(names: Any) -> list[dict[str, Any]]:
    return [{"id": str(snowflake()), "filename": n, "size": 1, "url": f"https://cdn.invalid/{n}",
             "proxy_url": f"https://cdn.invalid/{n}"} for n in names]  # fmt: skip


def _json(data: Any, status: int, headers: dict[str, str]) -> web.Response:
    """Exactly "application/json", no charset, as Discord sends it (discord.py compares the header)."""
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json", headers=headers)


@asynccontextmanager
async def running_fake_discord(token: str) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(token)
    app = web.Application()
    app.router.add_get("/gateway", fake.gateway)
    app.router.add_route("*", "/api/v10/{path:.*}", fake.rest)
    async with serve_on_loopback(app) as url:
        fake.url = url
        try:
            yield fake
        finally:
            for session in list(fake.sessions):
                await session.ws.close()
