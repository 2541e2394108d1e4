"""The shipped banks: they load, meet their floors and limits; broken banks give precise errors."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.configured import load_questions
from questions.loader import SHIPPED_DIR, Bank, BankInvalid, load_bank, load_bank_cached
from questions.report import AREA_FLOORS, OTHER_FLOORS, TECHNICAL_FLOORS, quiz_answer_stats, stats_table
from questions.schema import QuizQuestion, reflow


@pytest.fixture(scope="module")
def shipped() -> Bank:
    return load_bank()


def test_every_shipped_file_loads(shipped: Bank) -> None:
    assert len(shipped.technical) >= sum(TECHNICAL_FLOORS.values())


@pytest.mark.parametrize("section", sorted(TECHNICAL_FLOORS))
def test_section_floor(shipped: Bank, section: str) -> None:
    count = sum(1 for q in shipped.technical.values() if q.section == section)
    assert count >= TECHNICAL_FLOORS[section], f"{section}: {count} < {TECHNICAL_FLOORS[section]}"


def test_other_floors(shipped: Bank) -> None:
    assert len(shipped.behavioral) >= OTHER_FLOORS["behavioral"]
    assert len(shipped.design) >= OTHER_FLOORS["design"]
    assert len(shipped.quiz) >= OTHER_FLOORS["quiz"]
    assert TECHNICAL_FLOORS["9.1"] + TECHNICAL_FLOORS["9.2"] >= 90 and sum(TECHNICAL_FLOORS.values()) >= 620
    for area, (prefix, floor) in AREA_FLOORS.items():
        assert sum(1 for qid in shipped.technical if qid.startswith(prefix)) >= floor, area
    groups = Counter(q.group for q in shipped.behavioral.values())
    assert set(groups) == {"background", "interests", "communication", "personality"} and min(groups.values()) >= 12
    assert any(c.section == "2.3.2" for c in shipped.cards.values())


def test_difficulty_mix_is_close_to_40_45_15(shipped: Bank) -> None:
    mix = Counter(q.difficulty for q in shipped.technical.values())
    total = sum(mix.values())
    assert abs(mix["easy"] / total - 0.40) <= 0.07
    assert abs(mix["medium"] / total - 0.45) <= 0.07
    assert abs(mix["hard"] / total - 0.15) <= 0.05


def test_rubrics_are_complete(shipped: Bank) -> None:
    for q in [*shipped.technical.values(), *shipped.behavioral.values()]:
        assert len(q.key_points) >= 2, q.id
        assert 1 <= len(q.hints) <= 3, q.id
    for s in shipped.design.values():
        assert [st.stage for st in s.stages] == ["setup", "data", "modeling", "serving"], s.id
        assert all(len(st.key_points) >= 2 and st.probes for st in s.stages), s.id
        assert len(s.facts) >= 4, s.id


def test_quiz_questions_fit_a_native_telegram_quiz_poll(shipped: Bank) -> None:
    for q in shipped.quiz.values():
        assert 1 <= len(q.question) <= 300, q.id
        assert 2 <= len(q.options) <= 10, q.id
        assert all(1 <= len(o) <= 100 for o in q.options), q.id
        assert 0 <= q.answer < len(q.options), q.id
        assert len(q.explanation) <= 200, q.id
    sections = Counter(q.section for q in shipped.quiz.values())
    assert len(sections) >= 15  # spread over the technical sections


def test_quiz_answers_cannot_be_guessed_from_the_options_form(shipped: Bank) -> None:
    """Picking the longest option, or always the same letter, must do no better than chance."""
    stats = quiz_answer_stats(shipped.quiz.values())
    assert stats.longest_share <= 0.30, stats.line()
    shares = stats.position_shares(four_options=True)
    assert stats.four_option_items >= 100 and len(shares) == 4, stats
    assert all(0.15 <= s <= 0.35 for s in shares.values()), shares


def test_quiz_answer_stats_count_only_a_strictly_longest_key() -> None:
    def item(qid: str, options: list[str], answer: int) -> QuizQuestion:
        return QuizQuestion(
            id=qid,
            section="7.1",
            topic="t",
            difficulty="easy",
            question="q?",
            options=options,
            answer=answer,
            explanation="e",
        )

    stats = quiz_answer_stats(
        [
            item("q-longest", ["a", "bb", "the longest one"], 2),
            item("q-tied", ["abc", "xyz", "a"], 0),
            item("q-short", ["a", "bbbb", "cc", "d"], 3),
        ]
    )
    assert (stats.items, stats.longest, stats.positions) == (3, 1, (1, 0, 1, 1))
    assert stats.four_option_items == 1 and stats.position_shares(four_options=True)["D"] == 1.0
    assert "strictly longest in 1/3 (33%)" in stats.line() and "A 33% B 0% C 33% D 33%" in stats.line()
    assert quiz_answer_stats([]).longest_share == 0.0


def test_reference_answers_satisfy_their_own_rubrics(shipped: Bank) -> None:
    """A reference answer that misses its own key points means candidates saying the same are missed too."""
    from bot.grading.selfgrade import self_grades

    grades = self_grades(shipped)
    weak = [(g.item_id, g.score) for g in grades if g.score < 2.5]
    assert not weak, weak
    assert not grades or sum(g.score for g in grades) / len(grades) >= 3.5


def test_prose_is_reflowed_but_code_keeps_its_lines(shipped: Bank) -> None:
    answer = shipped.technical["nn-gradient-accumulation"].reference_answer
    assert "\n    for i, (x, y) in enumerate(loader):\n        loss" in answer  # code block intact
    assert "so they accumulate gradients" in answer  # a hard-wrapped line joined to its sentence
    assert reflow("Code:\n\n    import numpy as np\n\nThen\nmore.") == "Code:\n\n    import numpy as np\n\nThen more."


def test_ids_are_unique_across_banks(shipped: Bank) -> None:
    assert len(shipped.origin) == len(shipped)


def test_one_file_per_technical_section(shipped: Bank) -> None:
    sections: dict[str, set[str]] = {}
    for q in shipped.technical.values():
        sections.setdefault(shipped.origin[q.id], set()).add(q.section)
    assert len(sections) == len(list((SHIPPED_DIR / "technical").glob("*.yaml")))
    for name, found in sections.items():
        assert len(found) == 1 and Path(name).name.startswith(next(iter(found)) + "-"), name


def test_stats_show_every_floor_met(shipped: Bank) -> None:
    table = stats_table(shipped)
    assert "BELOW FLOOR" not in table and "target 40/45/15" in table
    assert "quiz answers: correct option strictly longest in" in table


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


BROKEN = """bank: technical
questions:
  - id: ok-question
    section: "7.1"
    topic: t
    subtopic: s
    difficulty: easy
    kind: concept
    prompt: Why does regularization help a model generalize to unseen data?
    hints: [think about variance]
    key_points:
      - point: It reduces variance
        claims:
          - says: [reduce variance, less overfitting]
      - point: It trades a little bias
        claims:
          - says: [bias]
    reference_answer: It reduces variance at the cost of some bias.
    roles: [mle]
    seniority: [junior]
    minutes: 3
  - id: Bad_Id
    section: "99.9"
    topic: t
    subtopic: s
    difficulty: impossible
    kind: concept
    prompt: short
    hints: []
    key_points: []
    reference_answer: x
    roles: [astronaut]
    seniority: [junior]
    minutes: 3
"""


GOOD = BROKEN.split("  - id: Bad_Id")[0].replace("says: [bias]", "says: [adds bias, more bias]")


def test_broken_bank_errors_name_file_id_and_field(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    text = str(info.value)
    expected = [
        ("ok-question", "key_points.1.claims.0.says"),
        ("Bad_Id", "id"),
        ("Bad_Id", "section"),
        ("Bad_Id", "difficulty"),
        ("Bad_Id", "prompt"),
        ("Bad_Id", "hints"),
        ("Bad_Id", "key_points"),
        ("Bad_Id", "roles.0"),
    ]
    for qid, field in expected:
        assert re.search(rf"broken\.yaml: id {qid}: {re.escape(field)}: ", text), (qid, field, text)


def test_duplicate_ids_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    text = str(info.value)
    assert "b.yaml: id ok-question: id: duplicate id, first defined in" in text


def test_near_duplicate_prompt_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("ok-question", "other-question").replace("unseen data?", "unseen data!"))
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    assert "b.yaml: id other-question: prompt: near-duplicate of ok-question" in str(info.value)


def test_a_subject_of_only_function_words_is_rejected_by_validation(tmp_path: Path) -> None:
    """'it' names nothing an answer could be found to say; grading would refuse it."""
    claim = "claims:\n          - says: [reduce variance, less overfitting]"
    assert claim in GOOD
    write(
        tmp_path,
        "a.yaml",
        GOOD.replace(claim, "claims:\n          - subject: [regularisation, it]\n            says: [reduce variance]"),
    )
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    assert "has no words" in str(info.value)


def test_a_pattern_with_too_many_readings_is_rejected_by_validation(tmp_path: Path) -> None:
    """Grading expands every reading, so validation must refuse what grading would crash on."""
    many = "(a1|a2|a3|a4|a5) (b1|b2|b3|b4|b5) ... (c1|c2|c3|c4|c5) (d1|d2|d3) (e1|e2|e3)"
    write(tmp_path, "a.yaml", GOOD.replace("says: [reduce variance, less overfitting]", f"says: ['{many}']"))
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    assert "more than 256 ways to be read" in str(info.value)


def test_same_topic_and_key_points_in_other_words_is_an_error(tmp_path: Path) -> None:
    """Two questions written apart on one idea share key points, not prompt wording."""
    reworded = GOOD.replace("ok-question", "other-question").replace(
        "Why does regularization help a model generalize to unseen data?",
        "A teammate asks what a penalty term buys us when the validation loss climbs. Tell them.",
    )
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", reworded.replace("questions:\n", "questions:\n", 1))
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    text = str(info.value)
    assert "b.yaml: id other-question: key_points: asks the same as ok-question" in text
    assert "near-duplicate" not in text  # the prompts differ; only the new check sees it
    different = (
        reworded.replace("It reduces variance", "Dropout zeroes random units")
        .replace("It trades a little bias", "Batch norm rescales activations")
        .replace("topic: t", "topic: layers")
        .replace("subtopic: s", "subtopic: normalisation")
    )
    write(tmp_path, "b.yaml", different)
    assert len(load_bank([tmp_path]).technical) == 2


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("bank: technical\nquestions: [\n", "yaml"),
        ("questions: []\n", "bank"),
        (
            "bank: quiz\nquestions:\n  - {id: q-x1, section: '7.1', topic: t, difficulty: easy, question: Q?, options: [a, b], answer: 5, explanation: e}\n",
            "-",
        ),
        (
            "bank: quiz\nquestions:\n  - {id: q-x2, section: '7.1', topic: t, difficulty: easy, question: Q?, options: [a], answer: 0, explanation: e}\n",
            "options",
        ),
        (
            f"bank: quiz\nquestions:\n  - {{id: q-x3, section: '7.1', topic: t, difficulty: easy, question: {'x' * 301}, options: [a, b], answer: 0, explanation: e}}\n",
            "question",
        ),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, field: str) -> None:
    write(tmp_path, "bad.yaml", text)
    with pytest.raises(BankInvalid) as info:
        load_bank([tmp_path])
    assert "bad.yaml: id " in str(info.value) and f": {field}: " in str(info.value)


def test_validate_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "broken.yaml", BROKEN)
    assert main(["questions", "validate", str(tmp_path)]) == 1
    assert "broken.yaml: id Bad_Id: difficulty" in capsys.readouterr().err
    assert main(["questions", "validate", str(tmp_path / "missing")]) == 2
    assert main(["questions", "validate"]) == 0
    assert "quiz answers: correct option strictly longest in" in capsys.readouterr().out


def test_readme_examples_validate(tmp_path: Path) -> None:
    text = (SHIPPED_DIR / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    for i, block in enumerate(blocks):
        if "bank:" not in block:
            continue  # a fragment, such as one key point
        if "bank: design" in block:
            continue  # abbreviated on purpose: it shows one stage of four
        load_bank([write(tmp_path, f"example{i}.yaml", block)])


def test_extra_bank_folders_are_validated_the_same_way(tmp_path: Path, shipped: Bank) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    write(pack, "broken.yaml", BROKEN)
    settings = load_settings({"DATA_DIR": str(tmp_path / "data"), "EXTRA_BANK_DIRS": str(pack)}, dotenv=None)
    with pytest.raises(BankInvalid, match=r"broken\.yaml: id Bad_Id"):
        load_questions(settings)
    write(
        pack, "broken.yaml", GOOD.replace("ok-question", "acme-own-question").replace("generalize", "generalise well")
    )
    bank = load_questions(settings)
    assert "acme-own-question" in bank.technical and len(bank.technical) == len(shipped.technical) + 1


def test_cache_is_keyed_by_content(tmp_path: Path) -> None:
    folder = tmp_path / "bank"
    folder.mkdir()
    write(folder, "a.yaml", GOOD)
    first = load_bank_cached([folder], tmp_path / "cache")
    assert list((tmp_path / "cache").glob("bank-*.pickle"))
    write(folder, "a.yaml", GOOD.replace("It reduces variance at", "It lowers variance at"))
    second = load_bank_cached([folder], tmp_path / "cache")
    assert first.technical["ok-question"].reference_answer != second.technical["ok-question"].reference_answer
    write(folder, "a.yaml", BROKEN)
    with pytest.raises(BankInvalid):
        load_bank_cached([folder], tmp_path / "cache")
