"""Pieces the panel's forms share: Vietnamese messages for choices, input clean-up, and a
domain error shown next to the field it names.

The pattern of a form view (GET shows, POST validates, re-displays with the values kept and
the messages next to the fields, or saves, flashes and redirects)::

    form = ThingForm()
    if form.validate_on_submit():
        try:
            service.save(session(), now_utc(), panel_user(), form.name.data)
        except DomainError as exc:
            session().rollback()
            show_error(form, exc, {"name": _("Tên này đã có.")})
        else:
            session().commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for(".things"))
    return render_template("things/edit.html", form=form), 400 if form.errors else 200
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField
from wtforms.validators import ValidationError

from scheduler.errors import DomainError

try:  # WTForms 3.3 deprecates (value, label) tuples for a select's options
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def options(pairs: Iterable[tuple[str, Any]]) -> list[Any]:
    """A select's options from ``(value, label)`` pairs, in the form this WTForms wants."""
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def strip_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class ChoiceField(SelectField):
    """A select whose refusal is in the panel's language (WTForms has no Vietnamese).
    ``choices`` are ``(value, label)`` pairs, or a function returning them; to set them
    later, ``form.field.choices = options(pairs)``."""

    def __init__(
        self,
        *args: Any,
        choices: Iterable[tuple[str, Any]] | Callable[[], Iterable[tuple[str, Any]]] | None = None,
        invalid: Any = None,
        **kwargs: Any,
    ) -> None:
        if callable(choices):
            pairs = choices
            kwargs["choices"] = lambda: options(pairs())
        elif choices is not None:
            kwargs["choices"] = options(choices)
        super().__init__(*args, **kwargs)
        self.invalid = invalid or _l("Hãy chọn một giá trị trong danh sách.")

    def pre_validate(self, form: Form) -> None:
        allowed = {str(value) for value, *_rest in self.iter_choices()}
        if self.data is None or str(self.data) not in allowed:
            raise ValidationError(str(self.invalid))


def show_error(form: Form, exc: DomainError, messages: Mapping[str, Any] | None = None) -> None:
    """Attach a domain error to the field it names (``exc.field``), worded by ``messages``
    when given; otherwise to the form as a whole."""
    messages = messages or {}
    text = messages.get(exc.field or "") or _("Không lưu được: %(reason)s", reason=exc.message)
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(text)]
    else:
        form.form_errors = [*form.form_errors, str(text)]
