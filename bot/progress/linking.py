"""/link and /unlink: one person's Telegram and Discord accounts share progress, streaks and reviews."""

from __future__ import annotations

from datetime import timedelta

from bot.core.context import Ctx
from bot.progress.records import LinkCodeRecord, LinkRecord, UnlinkRecord

CODE_LIFETIME = timedelta(minutes=15)


async def link(ctx: Ctx, args: tuple[str, ...], new_code: str) -> None:
    if ctx.event.chat_kind != "private":
        ctx.say("Linking accounts works in a private chat with me.")
        return
    if not args:
        code = new_code.upper()
        ctx.records.append(LinkCodeRecord(code, ctx.now + CODE_LIFETIME))
        ctx.say(
            f"Your link code: {code}\nSend /link {code} to me from your account on the other platform within "
            f"{int(CODE_LIFETIME.total_seconds() // 60)} minutes. It works once."
        )
        return
    code = args[0].strip().upper()[:16]
    view = await ctx.data.link_code(code)
    profile = await ctx.profile()
    if view is None:
        ctx.say("That code isn't valid. Send /link on your other account to get a new one.")
    elif view.used:
        ctx.say("That code has already been used. Send /link on your other account to get a new one.")
    elif view.expires_at <= ctx.now:
        ctx.say("That code has expired. Send /link on your other account to get a new one.")
    elif view.owner == profile.user_id:
        ctx.say("That's this account's own code: send it from your account on the other platform.")
    elif ctx.event.platform in view.platforms:
        ctx.say(f"That account already has a {ctx.event.platform} identity; unlink it there first with /unlink.")
    else:
        ctx.records.append(LinkRecord(code, view.owner))
        others = ", ".join(view.platforms)
        ctx.say(
            f"Linked with your {others} account: progress, streaks and review schedules are now shared. /unlink undoes it."
        )


async def unlink(ctx: Ctx) -> None:
    platforms = await ctx.data.platforms()
    if len(platforms) < 2:
        ctx.say("This account isn't linked to another one.")
        return
    ctx.records.append(UnlinkRecord(ctx.event.platform))
    ctx.say("Unlinked. Earlier progress stays with your other account; from now on each account keeps its own.")
