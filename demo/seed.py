"""Deterministic seed data for the demo todo backend: teams, users, todos, comments.

Everything comes from one seeded ``random.Random`` and fixed base dates, so two backends
built with the same seed serve byte-identical data (tests and benchmarks rely on that).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypedDict

DEFAULT_SEED = 20240603
N_USERS = 20
N_TODOS = 200
N_COMMENTS = 600
BIG_MAX_KB = 32 * 1024

# Fixed "now" of the data set: due dates and comment times are spread around it.
_TODAY = dt.date(2024, 6, 3)
_NOW = dt.datetime(2024, 6, 3, 9, 30, tzinfo=dt.UTC)


class Team(TypedDict):
    id: int
    name: str
    slug: str
    description: str


class User(TypedDict):
    id: int
    name: str
    email: str
    team_id: int
    avatar_url: str


class Todo(TypedDict):
    id: int
    user_id: int
    title: str
    done: bool
    due: str
    priority: str
    tags: list[str]


class Comment(TypedDict):
    id: int
    todo_id: int
    user_id: int
    body: str
    created_at: str


class Activity(TypedDict):
    id: int
    kind: str
    todo_id: int
    user_id: int
    at: str


@dataclass
class Seed:
    """The data set plus id indexes; ``todos`` may grow (POST /todos), the rest is fixed."""

    teams: list[Team]
    users: list[User]
    todos: list[Todo]
    comments: list[Comment]
    users_by_id: dict[int, User] = field(init=False)
    teams_by_id: dict[int, Team] = field(init=False)
    todos_by_id: dict[int, Todo] = field(init=False)
    comments_by_todo: dict[int, list[Comment]] = field(init=False)
    activity: list[Activity] = field(init=False)  # comment events, newest first

    def __post_init__(self) -> None:
        self.users_by_id = {u["id"]: u for u in self.users}
        self.teams_by_id = {t["id"]: t for t in self.teams}
        self.todos_by_id = {t["id"]: t for t in self.todos}
        self.comments_by_todo = {t["id"]: [] for t in self.todos}
        for c in self.comments:
            self.comments_by_todo[c["todo_id"]].append(c)
        self.activity = [
            Activity(
                id=c["id"],
                kind="comment",
                todo_id=c["todo_id"],
                user_id=c["user_id"],
                at=c["created_at"],
            )
            for c in sorted(self.comments, key=lambda c: (c["created_at"], c["id"]), reverse=True)
        ]

    def add_todo(self, todo: Todo) -> None:
        self.todos.append(todo)
        self.todos_by_id[todo["id"]] = todo
        self.comments_by_todo[todo["id"]] = []

    def crowd(self, todo_id: int, authors: int) -> None:
        """Give todo ``todo_id`` one comment from each of ``authors`` distinct users, adding
        guest users past the seeded ones: the scale batch tests and benchmarks need."""
        for i in range(len(self.users) + 1, authors + 1):
            guest = User(
                id=i,
                name=f"Guest {i}",
                email=f"guest.{i}@acme.example",
                team_id=self.teams[i % len(self.teams)]["id"],
                avatar_url=f"https://avatars.acme.example/u/{i}.png",
            )
            self.users.append(guest)
            self.users_by_id[i] = guest
        first = max(c["id"] for c in self.comments) + 1
        crowd = [
            Comment(
                id=first + n,
                todo_id=todo_id,
                user_id=n + 1,
                body=f"Comment {n + 1}",
                created_at=_NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            for n in range(authors)
        ]
        self.comments = [c for c in self.comments if c["todo_id"] != todo_id] + crowd
        self.comments_by_todo[todo_id] = crowd


_TEAMS = [
    ("Platform", "platform", "APIs, infrastructure and the developer platform."),
    ("Mobile", "mobile", "The iOS and Android apps."),
    ("Growth", "growth", "Onboarding, activation and pricing experiments."),
    ("Design", "design", "Product design, the design system and research."),
]
# fmt: off
_FIRST = [
    "Ada", "Bruno", "Chloé", "Dmitri", "Elena", "Farah", "Gustavo", "Hana", "Idris", "Julia",
    "Kenji", "Lena", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tess",
    "Umar", "Vera", "Wen", "Yusuf", "Zoë",
]
_LAST = [
    "Andersen", "Becker", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ibrahim",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Brien", "Patel", "Rossi",
    "Schmidt", "Tanaka", "Virtanen", "Weber", "Yilmaz",
]
# fmt: on
_VERBS = [
    "Review",
    "Update",
    "Finish",
    "Follow up on",
    "Write tests for",
    "Document",
    "Clean up",
    "Plan",
    "Estimate",
    "Prototype",
    "Fix bugs in",
    "Demo",
]
_OBJECTS = [
    ("the onboarding flow", "onboarding"),
    ("the billing page", "billing"),
    ("push notifications", "mobile"),
    ("the search API", "api"),
    ("dark mode", "design"),
    ("the release checklist", "release"),
    ("CSV export", "api"),
    ("the invite emails", "onboarding"),
    ("the mobile settings screen", "mobile"),
    ("SSO login", "security"),
    ("the weekly metrics report", "analytics"),
    ("the design tokens", "design"),
    ("the caching layer", "infra"),
    ("the API rate limits", "api"),
    ("the team calendar", "frontend"),
    ("the accessibility audit findings", "a11y"),
    ("the pricing page copy", "billing"),
    ("error monitoring alerts", "infra"),
    ("the data retention policy", "security"),
    ("offline sync", "mobile"),
]
_EXTRA_TAGS = ["urgent", "bug", "frontend", "backend", "docs", "research", "tech-debt", "q3"]
_COMMENT_BODIES = [
    "Looks good to me, shipping it.",
    "Can we split this into two smaller tasks?",
    "I pushed a first draft, feedback welcome.",
    "Blocked on the API change, will pick it up after standup.",
    "Added screenshots to the ticket.",
    "This needs a design review before we merge.",
    "Moved the due date, the release slipped a week.",
    "Paired with {name} on this, almost done.",
    "Tests are green now.",
    "Who owns this after the reorg?",
    "Let's discuss in Thursday's planning.",
    "Found an edge case with empty accounts, fixing.",
    "Customer support asked about this twice this week.",
    "Done, but the docs still need an update.",
    "Can someone from {team} take a look?",
    "Reverted for now, it broke the nightly build.",
    "+1, this keeps coming up in user interviews.",
    "Updated the estimate: two more days.",
]


def build_seed(seed: int = DEFAULT_SEED) -> Seed:
    """Build a fresh, mutable data set; the same ``seed`` always gives the same data."""
    rng = random.Random(seed)
    teams = [
        Team(id=i, name=name, slug=slug, description=desc)
        for i, (name, slug, desc) in enumerate(_TEAMS, start=1)
    ]
    users = _users(rng, teams)
    todos = _todos(rng, users)
    comments = _comments(rng, users, teams, todos)
    return Seed(teams=teams, users=users, todos=todos, comments=comments)


def _users(rng: random.Random, teams: list[Team]) -> list[User]:
    names = zip(rng.sample(_FIRST, N_USERS), rng.sample(_LAST, N_USERS), strict=True)
    users: list[User] = []
    for i, (first, last) in enumerate(names, start=1):
        local = f"{_ascii(first)}.{_ascii(last)}".lower()
        users.append(
            User(
                id=i,
                name=f"{first} {last}",
                email=f"{local}@acme.example",
                # Round-robin first so every team has members, then random.
                team_id=teams[i - 1]["id"] if i <= len(teams) else rng.choice(teams)["id"],
                avatar_url=f"https://avatars.acme.example/u/{i}.png",
            )
        )
    return users


def _todos(rng: random.Random, users: list[User]) -> list[Todo]:
    combos = [(verb, obj) for verb in _VERBS for obj in _OBJECTS]
    todos: list[Todo] = []
    for i, (verb, (obj, tag)) in enumerate(rng.sample(combos, N_TODOS), start=1):
        extra = rng.sample(_EXTRA_TAGS, rng.choice([0, 0, 1, 1, 2]))
        due = _TODAY + dt.timedelta(days=rng.randint(-30, 60))
        todos.append(
            Todo(
                id=i,
                user_id=rng.choice(users)["id"],
                title=f"{verb} {obj}",
                done=rng.random() < 0.35,
                due=due.isoformat(),
                priority=rng.choices(["low", "medium", "high"], weights=[3, 5, 2])[0],
                tags=sorted({tag, *extra}),
            )
        )
    return todos


def _comments(
    rng: random.Random, users: list[User], teams: list[Team], todos: list[Todo]
) -> list[Comment]:
    by_team: dict[int, list[User]] = {}
    for u in users:
        by_team.setdefault(u["team_id"], []).append(u)
    users_by_id = {u["id"]: u for u in users}
    drafts: list[tuple[dt.datetime, int, int, str]] = []
    for _ in range(N_COMMENTS):
        todo = rng.choice(todos)
        owner_team = users_by_id[todo["user_id"]]["team_id"]
        pool = by_team[owner_team] if rng.random() < 0.7 else users
        author = rng.choice(pool)
        body = rng.choice(_COMMENT_BODIES).format(
            name=rng.choice(users)["name"].split()[0], team=rng.choice(teams)["name"]
        )
        at = _NOW - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 45))
        drafts.append((at, todo["id"], author["id"], body))
    drafts.sort()  # ids follow time, like an autoincrement column would
    return [
        Comment(
            id=i,
            todo_id=todo_id,
            user_id=user_id,
            body=body,
            created_at=at.isoformat().replace("+00:00", "Z"),
        )
        for i, (at, todo_id, user_id, body) in enumerate(drafts, start=1)
    ]


def _ascii(name: str) -> str:
    table = str.maketrans({"é": "e", "ë": "e", "í": "i", "'": ""})
    return name.translate(table)


@lru_cache(maxsize=4)
def big_body(kb: int, seed: int = DEFAULT_SEED) -> bytes:
    """A JSON array of todo-like records of at least ``kb`` KiB (overshooting by one record)."""
    if not 0 <= kb <= BIG_MAX_KB:
        raise ValueError(f"kb must be between 0 and {BIG_MAX_KB}")
    todos = build_seed(seed).todos
    target = kb * 1024
    parts: list[bytes] = []
    size = 2  # the brackets
    i = 0
    while size < target:
        base = todos[i % len(todos)]
        record = {
            **base,
            "id": i + 1,
            "description": f"{base['title']}: see the linked document for details.",
        }
        part = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        parts.append(part)
        size += len(part) + (1 if i else 0)
        i += 1
    return b"[" + b",".join(parts) + b"]"
