"""The one Jinja2 environment of the reports: HTML templates autoescape every value.

Templates live in ``templates/`` beside this module (``*.html.j2`` escaped, ``*.md.j2``
not: Markdown neutralises untrusted text with its own filters, ``md_inline`` and
``md_fence``), the shared stylesheet in ``report.css``. Values marked safe with
:class:`markupsafe.Markup` are HTML the renderers built from escaped parts.

The per-student report's templates (``report.md.j2``, ``report.html.j2``) render through
:func:`line_environment`, an overlay of the same environment with ``trim_blocks`` and
``lstrip_blocks`` on, so a line holding only a ``{% ... %}`` tag leaves nothing in the
output: those templates read one template line per output line. The class pages' templates
are written for the plain environment.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from autograder.reports.prose import paragraphs
from autograder.reports.text import format_points, md_fence, md_inline


@cache
def environment() -> jinja2.Environment:
    """Templates from the package, HTML autoescaped, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("autograder.reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(md_inline=md_inline, md_fence=md_fence, points=format_points)
    env.filters["paragraphs"] = paragraphs  # written answers as prose (reports/prose.py)
    return env


@cache
def stylesheet() -> str:
    """The shared CSS, inlined into every page (pages are self-contained)."""
    return resources.files("autograder.reports").joinpath("report.css").read_text("utf-8")


@cache
def line_environment() -> jinja2.Environment:
    """:func:`environment` (same loader, filters and escaping) with block-only lines removed."""
    return environment().overlay(trim_blocks=True, lstrip_blocks=True)


def render_lines(name: str, **context: object) -> str:
    """Render one template of ``templates/`` through :func:`line_environment`."""
    return line_environment().get_template(name).render(**context)


def page(*, title: str, body: str) -> str:
    """A complete, self-contained page: ``title`` is escaped, ``body`` is trusted HTML."""
    template = environment().get_template("page.html.j2")
    return template.render(title=title, body=Markup(body), css=Markup(stylesheet()))
