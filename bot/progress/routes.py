"""What a user's own data answers: /stats, /export, /forget (or /deleteme), /link and /unlink."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.router import Router
from bot.progress.export import export
from bot.progress.forget import ask_forget, confirm_forget
from bot.progress.linking import link, unlink
from bot.progress.stats import stats


def register(router: Router, new_id: Callable[[], str]) -> None:
    router.command("stats", lambda ctx, args: stats(ctx))
    router.command("export", lambda ctx, args: export(ctx))
    for name in ("forget", "deleteme"):
        router.command(name, lambda ctx, args: ask_forget(ctx))
    router.choice("fg", lambda ctx, action, value: confirm_forget(ctx, action))
    router.command("link", lambda ctx, args: link(ctx, args, new_id()[:8]))
    router.command("unlink", lambda ctx, args: unlink(ctx))
