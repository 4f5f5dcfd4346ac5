"""The raw-data APIs the example functions read. Base URLs come from the environment
when a function is invoked, so one artifact runs against any deployment."""

from __future__ import annotations

from sff import Backend

users = Backend("users", env="USERS_API", timeout="2s")
"""People and teams: /users, /users/{id}, /teams/{id}, /teams/{id}/members."""

todos = Backend("todos", env="TODOS_API", timeout="2s")
"""Todos and comments: /todos, /todos/{id}, /todos/{id}/comments."""
