"""What providers contribute to the domain, registered from their ``AppConfig.ready()``.

The domain knows no provider by name: a provider registers its kinds of job
(``onboarding.jobs.register``), the panels it adds to the pharmacy page, the
job that starts when someone joins a pharmacy, the dashboard's actions, its
demo data and its periodic tasks here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import get_template


@dataclass(frozen=True)
class Panel:
    """A card on the pharmacy page: a template and the context it is rendered with.

    ``context(page_context, pharmacy, membership) -> dict`` gets the page's own
    context (a view may put a bound form there) and returns the panel's.
    """

    name: str
    template: str
    context: Callable[[Any, Any, Any], dict]
    order: int = 100

    def render(self, page_context, pharmacy, membership) -> str:
        data = {
            "request": page_context.get("request"),
            "csrf_token": page_context.get("csrf_token"),
            **self.context(page_context, pharmacy, membership),
        }
        return get_template(self.template).render(data)


@dataclass(frozen=True)
class JoinHandler:
    """What starts when someone accepts an invitation to a pharmacy (an account at a provider), and what they are told.

    ``start_job(pharmacy=, user=, function=, requested_by=, details=)`` returns its Job;
    ``message`` is a sentence with ``%(pharmacy)s``.
    """

    start_job: Callable[..., Any]
    message: Any


@dataclass(frozen=True)
class Action:
    """A button on the dashboard: a URL name and its label."""

    url_name: str
    label: Any
    element_id: str = ""


@dataclass(frozen=True)
class Demo:
    """What a provider adds to ``load_demo``: demo data, and what to tell the person who runs it.

    Both are called with ``titulaire=`` and ``pharmacy=`` (the demo's) and are safe to run again.
    ``load`` runs in the demo's transaction and returns lines for "Demo API clients" (development
    logins, never real secrets). ``after`` runs once it committed (jobs have run by then) and returns
    ``(notes, steps)``: lines to print now, and the steps to add to "Click first".
    """

    name: str
    load: Callable[..., list[str]] | None = None
    after: Callable[..., tuple[list[str], list[str]]] | None = None


_panels: dict[str, Panel] = {}
_demo: dict[str, Demo] = {}
_actions: dict[str, Action] = {}
_join: list[JoinHandler] = []


def register_panel(panel: Panel) -> None:
    _panels[panel.name] = panel


def unregister_panel(name: str) -> None:
    _panels.pop(name, None)


def panels() -> list[Panel]:
    """The pharmacy page's panels, in order."""
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def register_join_handler(handler: JoinHandler) -> None:
    """Set what starts when someone joins a pharmacy (one handler: the provider that holds staff accounts)."""
    _join[:] = [handler]


def join_handler() -> JoinHandler | None:
    return _join[0] if _join else None


def register_action(action: Action) -> None:
    _actions[action.url_name] = action


def actions() -> list[Action]:
    return list(_actions.values())


def register_demo(demo: Demo) -> None:
    """Add a provider's part to ``load_demo`` (development only)."""
    _demo[demo.name] = demo


def demos() -> list[Demo]:
    return list(_demo.values())


def schedule(name: str, task: str, every: float) -> None:
    """Run ``task`` every ``every`` seconds (Celery beat)."""
    from celery import current_app

    current_app.conf.beat_schedule = {**current_app.conf.beat_schedule, name: {"task": task, "schedule": every}}
