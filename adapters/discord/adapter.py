"""Discord through discord.py: slash commands, buttons, modals and DMs become engine events, and
engine replies become messages. It translates and renders only; the engine decides what to say.

Intents: `guilds` (the server, channel and role cache that interactions in servers refer to) and
`dm_messages` (plain answers typed in a DM; a DM's text needs no privileged intent). No privileged
intent is used: in servers everything arrives as interactions (slash commands, buttons, modals),
and leaderboards are built from members who answered, so the member list is never needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

from adapters.discord.commands import add_commands
from adapters.discord.render import ChoiceButton, Outgoing, answer_form, done_choice_of, poll_answer, render
from adapters.discord.transport import PLATFORM, DiscordTransport, map_errors
from adapters.errors import PlatformUnreachable
from adapters.text import parse_command
from bot.config import ConfigError
from bot.core.events import ChatKind, ChoiceIn, CommandIn, Inbound, Payload, PollAnswerIn, Reply, TextIn, parse_choice
from bot.delivery.sending import Blocked, RateLimiter, Rejected, RetryLater, with_retries
from bot.ops.metrics import count_sends

log = logging.getLogger(__name__)
# The bot never joins voice, so discord.py's warnings about missing voice libraries are noise.
discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
INTENTS = discord.Intents.none()
INTENTS.guilds = True
INTENTS.dm_messages = True


@dataclass(frozen=True)
class DiscordSettings:
    token: str
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    dev_guild_id: int | None = None
    shards: str | None = None  # None: one gateway connection; "auto": as many as Discord advises; or a number
    concurrency: int = 32  # events handled at once; the database pool is sized from it


class _Hooks:
    """Event handlers discord.py looks up on the client, forwarded to the adapter."""

    adapter: DiscordAdapter

    async def setup_hook(self) -> None:
        await self.adapter.setup()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self.adapter.on_interaction(interaction)

    async def on_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        await self.adapter.on_button(interaction, custom_id)


class _Client(_Hooks, discord.Client):
    # discord.py stays "ready" through a gateway outage while it reconnects; /readyz must not.
    async def on_disconnect(self) -> None:
        self.adapter.offline.add(0)

    async def on_connect(self) -> None:
        self.adapter.offline.discard(0)

    async def on_resumed(self) -> None:
        self.adapter.offline.discard(0)


class _ShardedClient(_Hooks, discord.AutoShardedClient):
    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.adapter.offline.add(shard_id)

    async def on_shard_connect(self, shard_id: int) -> None:
        self.adapter.offline.discard(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.adapter.offline.discard(shard_id)


class DiscordAdapter:
    def __init__(
        self,
        settings: DiscordSettings,
        dispatch: Callable[[Inbound], Awaitable[list[Reply]]],
        limiter: RateLimiter,
        on_undeliverable: Callable[[str, str, str, list[Reply], str, str], Awaitable[None]],
        on_blocked: Callable[[str, str], Awaitable[None]],
        quiz_messages: Callable[[str], Awaitable[list[tuple[str, str]]]],
        record_polls: Callable[[str, list[tuple[str, str]]], Awaitable[None]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._dispatch = dispatch
        # discord.py starts a task per event without limit: cap them, as python-telegram-bot does.
        self._slots = asyncio.Semaphore(settings.concurrency)
        self.on_undeliverable = on_undeliverable
        self.on_blocked = on_blocked
        self.record_polls = record_polls
        self.clock = clock
        self.client: discord.Client = self._make_client()
        self.tree = app_commands.CommandTree(self.client)
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        add_commands(self.tree, self.on_command, self._on_answer)
        self.transport = DiscordTransport(lambda: self.client, limiter, quiz_messages)
        self._runner: asyncio.Task[None] | None = None
        self.offline: set[int] = set()  # gateway shards disconnected and not yet back

    async def dispatch(self, event: Inbound) -> list[Reply]:
        async with self._slots:
            return await self._dispatch(event)

    # ------------------------------------------------------------------ lifecycle

    def _make_client(self) -> discord.Client:
        # discord.py has one API base and one gateway per process; operators behind a REST or gateway
        # proxy, and the tests' fake Discord, set them here.
        discord.http.Route.BASE = self.settings.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        shards = self.settings.shards
        client: _Client | _ShardedClient
        # Display names reach public messages (leaderboards): a member called "@everyone" must not ping.
        quiet = discord.AllowedMentions.none()
        if shards:
            count = None if shards == "auto" else int(shards)
            client = _ShardedClient(intents=INTENTS, shard_count=count, allowed_mentions=quiet)
        else:
            client = _Client(intents=INTENTS, allowed_mentions=quiet)
        client.adapter = self
        return client

    async def start(self, ready_within: float = 60.0) -> None:
        """Raises ConfigError if Discord rejects the token, PlatformUnreachable if it cannot be reached."""
        try:
            await self._start(ready_within)
        except discord.LoginFailure:
            raise ConfigError(
                ["DISCORD_BOT_TOKEN was rejected by Discord (reset it in the developer portal)"]
            ) from None
        except (
            aiohttp.ClientError,
            OSError,
            TimeoutError,
            discord.DiscordServerError,
            discord.ConnectionClosed,
        ) as exc:
            self.client.clear()  # so the next attempt starts from a fresh client state
            self._runner = None
            raise PlatformUnreachable(f"Discord: {type(exc).__name__}: {exc}") from None

    async def _start(self, ready_within: float) -> None:
        try:
            await self.client.login(self.settings.token)
            self._runner = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
            ready = asyncio.create_task(self.client.wait_until_ready())
            done, _ = await asyncio.wait(
                {ready, self._runner}, timeout=ready_within, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                ready.cancel()
                if self._runner in done:
                    self._runner.result()  # raises what stopped the gateway connection
                raise TimeoutError("Discord gateway did not become ready")
        except BaseException:
            await self.stop()
            raise
        user = self.client.user
        log.info("discord: running as %s (%s)", user, f"{self.client.shard_count or 1} shard(s)")

    async def stop(self) -> None:
        await self.client.close()
        if self._runner is not None:
            try:
                await self._runner
            except (discord.ConnectionClosed, aiohttp.ClientError, OSError) as exc:
                log.info("discord: gateway closed: %s", exc)

    @property
    def connected(self) -> bool:
        """For /readyz: logged in, the gateway session is ready, and no shard is disconnected."""
        return self.client.is_ready() and not self.client.is_closed() and not self.offline

    async def setup(self) -> None:
        """After login, before the gateway: route our buttons and publish the slash commands."""
        self.client.add_dynamic_items(ChoiceButton)
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    # ------------------------------------------------------------------ slash commands

    async def _on_answer(self, interaction: discord.Interaction[Any], text: str) -> None:
        await self.on_interaction_event(interaction, TextIn(text), thinking=True)

    async def _on_tree_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        log.error("discord: slash command failed: %s", error, exc_info=error)
        if not interaction.response.is_done():
            await interaction.response.send_message("Sorry, something went wrong on my side.", ephemeral=True)

    async def on_command(self, interaction: discord.Interaction[Any], name: str, args: Sequence[str]) -> None:
        await self.on_interaction_event(interaction, CommandIn(name, tuple(args)), thinking=True)

    # ------------------------------------------------------------------ buttons and forms

    async def on_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        done = done_choice_of(custom_id)
        if done is not None and custom_id.startswith("ans:"):
            await interaction.response.send_modal(answer_form(done))
            return
        vote = poll_answer(custom_id)
        payload: Payload = PollAnswerIn(*vote) if vote is not None else ChoiceIn(custom_id)
        await self.on_interaction_event(interaction, payload, thinking=False)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """What the command tree and our dynamic buttons do not take: form submits, foreign buttons."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if interaction.type == discord.InteractionType.modal_submit:
            done = done_choice_of(custom_id)
            text = _form_value(data.get("components", []))
            if done is None or text is None:
                await interaction.response.send_message("Sorry, I don't recognise that form.", ephemeral=True)
                return
            await self.on_interaction_event(interaction, TextIn(text, submit=done), thinking=True)
        elif interaction.type == discord.InteractionType.component and parse_choice(custom_id) is None:
            # A button from an old version of the bot or a forged id: never matched by our dynamic item.
            await interaction.response.send_message(
                "Sorry, I don't recognise that button. Send /mock to start a round or /help.", ephemeral=True
            )

    # ------------------------------------------------------------------ DMs

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is not None:
            return  # in servers everything arrives as interactions; we do not read channel chatter
        channel = str(message.channel.id)
        if not message.content.strip() and message.attachments:
            reply = Reply("I can only read text messages. Type your answer, or use /help.")
            await self.deliver(channel, "private", [reply], str(message.author.id))
            return
        command = parse_command(message.content)
        payload: Payload = CommandIn(*command) if command else TextIn(message.content)
        event = Inbound(
            PLATFORM,
            channel,
            "private",
            str(message.author.id),
            message.author.display_name,
            f"m{message.id}",
            self.clock(),
            payload,
        )
        if command and command[0] == "done":
            async with message.channel.typing():
                replies = await self.dispatch(event)
        else:
            replies = await self.dispatch(event)
        await self.deliver(channel, "private", replies, str(message.author.id))

    # ------------------------------------------------------------------ interactions

    def _event(self, interaction: discord.Interaction[Any], payload: Payload) -> Inbound:
        user = interaction.user
        in_guild = interaction.guild_id is not None
        roles = tuple(str(r.id) for r in getattr(user, "roles", ()) if not r.is_default())
        kind: ChatKind = "group" if in_guild else "private"
        return Inbound(
            PLATFORM,
            str(interaction.channel_id),
            kind,
            str(user.id),
            user.display_name,
            f"i{interaction.id}",
            self.clock(),
            payload,
            is_admin=in_guild and interaction.permissions.manage_guild,
            roles=roles,
        )

    async def on_interaction_event(
        self, interaction: discord.Interaction[Any], payload: Payload, *, thinking: bool
    ) -> None:
        """Acknowledge at once (Discord allows 3 s; grading may take longer), then dispatch and answer.

        In a server, the acknowledgement is ephemeral and so is every reply meant for this member
        alone; replies for the whole channel (a quiz starting, a leaderboard) are posted openly."""
        in_guild = interaction.guild_id is not None
        try:
            await interaction.response.defer(ephemeral=in_guild, thinking=thinking)
        except discord.HTTPException as exc:  # too late or already answered: nothing happened, so do nothing
            log.warning("discord: could not acknowledge an interaction (%s); the user may retry", exc)
            return
        try:
            replies = await self.dispatch(self._event(interaction, payload))
        except Exception:
            log.exception("discord: handling an interaction failed")
            replies = [Reply("Sorry, something went wrong on my side. Please try again.", private=True)]
        await self._answer(interaction, replies, thinking=thinking)

    async def _answer(self, interaction: discord.Interaction[Any], replies: list[Reply], *, thinking: bool) -> None:
        in_guild = interaction.guild_id is not None
        original = thinking  # the "thinking…" message still waits to be replaced
        for i, reply in enumerate(replies):
            ephemeral = in_guild and reply.private
            try:
                for out in render(reply):
                    if original and ephemeral == in_guild and out.poll_ref is None:
                        await interaction.edit_original_response(**_edit_kwargs(out))
                    else:
                        if original:
                            await interaction.delete_original_response()
                        message = await interaction.followup.send(**out.kwargs(), ephemeral=ephemeral, wait=True)
                        if out.poll_ref is not None:
                            await self.record_polls(str(interaction.channel_id), [(str(message.id), out.poll_ref)])
                    original = False
                    count_sends(PLATFORM, "sent")
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                await self._undeliverable(
                    str(interaction.channel_id), in_guild, replies[i:], exc, str(interaction.user.id)
                )
                return
        if original:
            await interaction.delete_original_response()

    async def _undeliverable(
        self, channel: str, in_guild: bool, replies: list[Reply], exc: BaseException, owner: str
    ) -> None:
        """Open replies go to the outbox for the sender to retry; an ephemeral one cannot be sent later
        (only the interaction could show it), so its loss is logged with the reason."""
        error = str(map_errors(exc))
        later = [r for r in replies if not (in_guild and r.private)]
        lost = len(replies) - len(later)
        if lost:
            count_sends(PLATFORM, "failed", lost)
            log.warning("discord: %d private reply(ies) in channel %s could not be delivered: %s", lost, channel, error)
        if later:
            count_sends(PLATFORM, "retried", len(later))
            await self.on_undeliverable(PLATFORM, channel, "group" if in_guild else "private", later, error, owner)

    async def deliver(self, channel: str, kind: ChatKind, replies: list[Reply], owner: str) -> None:
        """Send replies in order through the transport; retry what can be retried, queue the rest
        (recording whose replies they are, so /forget finds them)."""
        for i, reply in enumerate(replies):
            try:
                await with_retries(partial(self.transport.send, channel, kind, reply), 3, longest_wait=30)
            except RetryLater as exc:
                await self.on_undeliverable(PLATFORM, channel, kind, replies[i:], str(exc), owner)
                return
            except Blocked as exc:
                await self.on_blocked(channel, f"blocked: {exc}")
                return
            except Rejected as exc:
                log.error("discord: a reply to channel %s was rejected: %s", channel, exc)


def _edit_kwargs(out: Outgoing) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"content": out.content, "embed": out.embed, "view": out.view}
    if out.file is not None:
        kwargs["attachments"] = [out.file]
    return kwargs


def _form_value(components: Any) -> str | None:
    """The answer field's text from a modal submit, whatever layout (label or action row) wraps it."""
    stack = list(components) if isinstance(components, list) else []
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        if item.get("custom_id") == "answer" and isinstance(item.get("value"), str):
            value: str = item["value"]
            return value
        stack += item.get("components") or []
        if isinstance(item.get("component"), dict):
            stack.append(item["component"])
    return None
