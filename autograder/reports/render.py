"""The one Jinja2 environment of the reports: HTML templates autoescape every value.

Templates live in ``templates/`` beside this module (``*.html.j2`` escaped, ``*.md.j2``
not: Markdown neutralises untrusted text with its own filters), the shared stylesheet in
``report.css``. Values marked safe with :class:`markupsafe.Markup` are HTML the renderers
built from escaped parts.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup


@cache
def environment() -> jinja2.Environment:
    """Templates from the package, HTML autoescaped, undefined names an error."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("autograder.reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@cache
def stylesheet() -> str:
    """The shared CSS, inlined into every page (pages are self-contained)."""
    return resources.files("autograder.reports").joinpath("report.css").read_text("utf-8")


def page(*, title: str, body: str) -> str:
    """A complete, self-contained page: ``title`` is escaped, ``body`` is trusted HTML."""
    template = environment().get_template("page.html.j2")
    return template.render(title=title, body=Markup(body), css=Markup(stylesheet()))
