"""Load and validate YAML banks; every error names the file, the question id and the field."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rapidfuzz import fuzz, process

from questions.overlap import OVERLAP_ERROR, overlaps, runs
from questions.schema import (
    BANK_MODELS,
    BehavioralQuestion,
    CoachingCard,
    DesignScenario,
    Identified,
    QuizQuestion,
    TechnicalQuestion,
)

SHIPPED_DIR = Path(__file__).resolve().parent
NEAR_DUPLICATE_SCORE = 92
_CACHE_VERSION = "3"  # bump when parsing changes what a cached bank would hold

try:
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _YamlLoader = yaml.SafeLoader


@dataclass(frozen=True)
class BankError:
    file: str
    qid: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: id {self.qid}: {self.field}: {self.message}"


class BankInvalid(Exception):
    def __init__(self, errors: Sequence[BankError]) -> None:
        self.errors = list(errors)
        shown = "\n".join(f"  {e}" for e in self.errors[:50])
        more = f"\n  ... and {len(self.errors) - 50} more" if len(self.errors) > 50 else ""
        super().__init__(f"question bank has {len(self.errors)} error(s):\n{shown}{more}")


@dataclass
class Bank:
    technical: dict[str, TechnicalQuestion] = field(default_factory=dict)
    behavioral: dict[str, BehavioralQuestion] = field(default_factory=dict)
    design: dict[str, DesignScenario] = field(default_factory=dict)
    quiz: dict[str, QuizQuestion] = field(default_factory=dict)
    cards: dict[str, CoachingCard] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what validation could not check on this host

    def _store(self, kind: str) -> dict[str, Any]:
        stores: dict[str, dict[str, Any]] = {
            "technical": self.technical,
            "behavioral": self.behavioral,
            "design": self.design,
            "quiz": self.quiz,
            "card": self.cards,
        }
        return stores[kind]

    def get(self, qid: str) -> Identified | None:
        for store in (self.technical, self.behavioral, self.design, self.quiz, self.cards):
            if qid in store:
                item: Identified = store[qid]
                return item
        return None

    def __len__(self) -> int:
        return sum(len(s) for s in (self.technical, self.behavioral, self.design, self.quiz, self.cards))


def _yaml_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml")))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"bank path does not exist: {p}")
    return files


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(SHIPPED_DIR.parent))
    except ValueError:
        return str(path)


def _parse_file(path: Path, bank: Bank, errors: list[BankError]) -> None:
    name = _display(path)
    try:
        doc = yaml.load(path.read_bytes(), Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        errors.append(BankError(name, "-", "yaml", str(exc).replace("\n", " ")))
        return
    if not isinstance(doc, dict) or doc.get("bank") not in BANK_MODELS or not isinstance(doc.get("questions"), list):
        errors.append(
            BankError(
                name,
                "-",
                "bank",
                f"file must be a mapping with 'bank' ({'/'.join(BANK_MODELS)}) and a 'questions' list",
            )
        )
        return
    kind = str(doc["bank"])
    model = BANK_MODELS[kind]
    store = bank._store(kind)
    for index, raw in enumerate(doc["questions"]):
        qid = str(raw.get("id", f"#{index + 1}")) if isinstance(raw, dict) else f"#{index + 1}"
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "-"
                errors.append(BankError(name, qid, loc, err["msg"]))
            continue
        item_id = item.id
        if item_id in bank.origin:
            errors.append(BankError(name, item_id, "id", f"duplicate id, first defined in {bank.origin[item_id]}"))
            continue
        bank.origin[item_id] = name
        store[item_id] = item


def _prompt_of(item: Any) -> str:
    return str(getattr(item, "prompt", None) or getattr(item, "question", ""))


def near_duplicates(bank: Bank) -> list[BankError]:
    """Prompts within one bank kind that read almost the same are a copy-paste smell; technical
    questions whose topic and key points say the same thing ask the same question twice."""
    errors: list[BankError] = []
    for kind in ("technical", "behavioral", "design", "quiz"):
        items = list(bank._store(kind).values())
        prompts = [_prompt_of(i).lower() for i in items]
        if len(prompts) < 2:
            continue
        scores = process.cdist(
            prompts, prompts, scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_DUPLICATE_SCORE, workers=1
        )
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                if scores[i][j]:
                    a, b = items[i].id, items[j].id
                    errors.append(
                        BankError(
                            bank.origin[b],
                            b,
                            "prompt",
                            f"near-duplicate of {a} ({bank.origin[a]}), score {scores[i][j]:.0f}",
                        )
                    )
    for o in overlaps(bank.technical.values(), OVERLAP_ERROR):
        first, second = bank.technical[o.first], bank.technical[o.second]
        # Within one bank (the shipped one, or one extra pack): a pack may well retell a shipped question.
        same_bank = Path(bank.origin[o.first]).parts[:1] == Path(bank.origin[o.second]).parts[:1]
        if same_bank and runs(first) == runs(second):
            errors.append(
                BankError(
                    bank.origin[o.second],
                    o.second,
                    "key_points",
                    f"asks the same as {o.first} ({bank.origin[o.first]}): topic and key points {o.score:.2f} "
                    f"similar (limit {OVERLAP_ERROR}); merge the two or make them ask different things",
                )
            )
    return errors


def load_bank(paths: Sequence[Path] | None = None, *, check_duplicates: bool = True) -> Bank:
    """Load the shipped bank plus any extra folders; raise BankInvalid listing every problem."""
    files = _yaml_files(paths if paths is not None else [SHIPPED_DIR])
    bank = Bank()
    errors: list[BankError] = []
    for path in files:
        _parse_file(path, bank, errors)
    if check_duplicates and not errors:
        errors.extend(near_duplicates(bank))
    if not errors:
        # Imported here: running reference queries and solutions needs SQLite and the code sandbox.
        from bot.exercises.bank_check import exercise_errors

        run_errors, bank.notes = exercise_errors(bank)
        errors.extend(run_errors)
    if errors:
        raise BankInvalid(errors)
    return bank


def load_bank_cached(paths: Sequence[Path], cache_dir: Path | None) -> Bank:
    """Full validation runs once per distinct set of file contents; later starts read a pickle."""
    files = _yaml_files(paths)
    digest = hashlib.sha256(_CACHE_VERSION.encode())
    digest.update(Path(__file__).with_name("schema.py").read_bytes())
    for f in files:
        digest.update(str(f).encode())
        digest.update(f.read_bytes())
    cache = cache_dir / f"bank-{digest.hexdigest()[:24]}.pickle" if cache_dir else None
    if cache is not None and cache.exists():
        try:
            cached = pickle.loads(cache.read_bytes())
            if isinstance(cached, Bank):
                return cached
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    bank = load_bank(paths)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            for old in cache.parent.glob("bank-*.pickle"):
                old.unlink(missing_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(bank, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(cache)
        except OSError:
            pass  # a read-only data folder only costs start-up time
    return bank
