"""The panel's archive/restore button, shared by bulletins and programmes: check the form,
archive (or, with ``restore=1``, bring back), commit or roll back, and say which it was."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request

from scheduler import archive as service
from scheduler.db import now_utc
from scheduler.errors import DomainError, Forbidden
from scheduler.models import Program, Segment
from web.auth import panel_user
from web.db import session
from web.segments.forms import ApproveForm as CsrfOnly


@dataclass(frozen=True)
class Toggled:
    restored: bool  # brought back, rather than put away
    refused_by: str | None = None  # what still uses it, when archiving was refused


def toggle(thing: Segment | Program) -> Toggled:
    """Archive or restore ``thing`` from the posted form; 400 without a valid form, 403 out
    of the user's area."""
    if not CsrfOnly().validate_on_submit():
        abort(400)
    back = request.form.get("restore") == "1"
    try:
        (service.restore if back else service.archive)(session(), panel_user(), thing, now_utc())
    except Forbidden:
        session().rollback()
        abort(403)
    except DomainError as exc:
        session().rollback()
        return Toggled(back, exc.message.partition(": ")[2])
    session().commit()
    return Toggled(back)
