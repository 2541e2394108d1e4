"""System design, quiz drill and full-loop rounds through the engine."""

from __future__ import annotations

from bot.answering.records import AnswerRecord
from bot.engine import Engine
from bot.rounds.presets import PRESETS
from bot.rounds.records import RoundRecord
from tests.conftest import Conversation, cmd, text

SETUP_ANSWER = (
    "First I'd ask what a false positive costs, because blocking legitimate messages hurts trust, "
    "and I'd set a latency budget since messages arrive in real time."
)


async def test_design_round_walks_four_stages_and_nudges_a_skipped_one(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "design", "medium"))
    assert "Stage 1/4: Project set-up and requirements" in conv.text
    assert "Spam filter" in conv.text
    await conv.send(text(SETUP_ANSWER))
    await conv.send(cmd("done"))
    assert "Score:" in conv.text and "Stage 2/4: Data pipeline" in conv.text
    await conv.send(cmd("skip"))
    assert "red flag" in conv.text and "user reports" in conv.text.lower()
    assert "Follow-up on stage 2/4" in conv.text  # a skipped stage is probed
    await conv.send(cmd("skip"))
    assert "Stage 3/4: Modeling" in conv.text
    await conv.send(
        text(
            "I'd start with a logistic regression baseline because it is fast, then check precision and recall at a threshold."
        )
    )
    await conv.send(cmd("hint"))
    assert "Hint 1/1" in conv.text
    await conv.send(cmd("done"))
    if "Follow-up on stage 3/4" in conv.text:
        await conv.send(cmd("skip"))
    assert "Stage 4/4: Serving and monitoring" in conv.text
    await conv.send(text("Spammers adapt, so I'd monitor drift and retrain regularly with fresh labels."))
    await conv.send(cmd("done"))
    if "Follow-up on stage 4/4" in conv.text:
        await conv.send(cmd("skip"))
    assert "four stages" in conv.text and "Trade-offs" in conv.text
    await conv.press("Good")
    assert "Scorecard" in conv.text and "system design" in conv.text
    round_ = next(r for r in conv.records if isinstance(r, RoundRecord) and r.status == "finished")
    assert round_.scorecard is not None and round_.scorecard["questions"] == 4
    stages = [r.result.stage for r in conv.records if isinstance(r, AnswerRecord) and not r.follow_up]
    assert stages == ["setup", "data", "modeling", "serving"]
    skipped = [r.result for r in conv.records if isinstance(r, AnswerRecord) and r.result.skipped]
    assert [s.stage for s in skipped] == ["data"]


async def test_quiz_drill_scores_right_and_wrong(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "quiz", "easy", "3"))
    right = wrong = 0
    for n in range(3):
        assert conv.state.round is not None
        qid = conv.state.round.current_id
        item = engine.bank.quiz[qid or ""]
        assert f"Question {n + 1}/3" in conv.text
        if n == 1:
            pick = (item.answer + 1) % len(item.options)
            wrong += 1
        else:
            pick = item.answer
            right += 1
        await conv.press(chr(65 + pick))
        verdict = conv.replies[0].text
        assert ("Correct" in verdict) == (pick == item.answer)
        assert item.explanation in verdict
        assert f"Score so far: {right}/{n + 1}" in verdict
    assert f"Quiz drill complete: {right}/3 correct" in conv.text
    assert right == 2 and wrong == 1


async def test_quiz_drill_ignores_free_text_and_hints(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "quiz", "easy", "3"))
    await conv.send(text("I think it's the second one"))
    assert "Pick one of the options" in conv.text
    await conv.send(cmd("hint"))
    assert "no hints in a quiz" in conv.text
    assert conv.state.round is not None and conv.state.round.results == []


async def test_loop_follows_the_preset_and_combines_a_scorecard(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "loop"))
    assert "Which role and level" in conv.text
    await conv.press("ML engineer, senior")
    preset = PRESETS["mle-s"]
    assert conv.state.round is not None
    labels = [s.label for s in conv.state.round.plan]
    assert labels == ["Phone screen"] * 2 + ["Technical deep dive"] * 3 + ["System design"] + ["Behavioral"] * 2
    assert preset.label in conv.replies[0].text and "Phone screen → Technical deep dive" in conv.replies[0].text
    parts_seen = []
    while conv.state.mode == "round":
        assert conv.state.round is not None
        if "Part " in conv.text:
            parts_seen.append(conv.text.split("Part ")[1][:1])
        await conv.send(cmd("skip"))
        if conv.state.round is not None and conv.state.round.phase == "rate":
            await conv.press("Next")
    assert parts_seen == ["2", "3", "4"]
    assert "Combined scorecard" in conv.text and "Questions to ask your interviewer" in conv.text


async def test_junior_loop_leaves_out_design(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "loop", "ds-j"))
    assert conv.state.round is not None
    assert "design" not in [s.kind for s in conv.state.round.plan]
    assert "System design is left out" in conv.replies[0].text


async def test_loop_pause_and_resume(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "loop", "mle-j"))
    await conv.send(cmd("skip"))
    await conv.send(cmd("pause"))
    await conv.send(cmd("mock"))
    await conv.press("Resume")
    assert conv.state.round is not None and conv.state.round.slot == 1
    assert "Question 2/7 · Phone screen" in conv.text
