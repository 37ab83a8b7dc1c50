from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional, Regexp

from ..scoring import validate_values


class ScoreForm(FlaskForm):
    """A judge's score sheet. The rubric's radio fields are added per event by `score_form_for`."""

    comment = TextAreaField("Comment for the team (optional)", validators=[Length(max=4000)],
                            description="Strengths, suggestions: the team will read this.")
    private_note = TextAreaField("Private note for the organisers (optional)", validators=[Length(max=4000)],
                                 description="Never shown to the team.")
    absent = BooleanField("Team absent: nobody was at the table")
    conflict = BooleanField("I have a conflict of interest with this team")
    submit = SubmitField("Submit score")
    # Exactly once: a key per filled-in form (made when the page is rendered, or by the phone's
    # script per submission), and when the judge last edited it on the phone (ms since 1970, UTC).
    idempotency_key = HiddenField(validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{8,64}$")])
    edited_at = HiddenField(validators=[Optional(), Regexp(r"^\d{10,15}$")])
    # The revision of the saved sheet this form was loaded from (0: none yet): a form loaded before
    # another tab saved must not overwrite that save without the judge choosing so.
    revision = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])

    criteria: list = []
    clean_values: dict = {}

    def criterion_field(self, criterion):
        return self[f"criterion_{criterion.id}"]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self.clean_values = {}
        if self.absent.data and self.conflict.data:
            self.form_errors.append("Tick one of \"Team absent\" and \"I have a conflict of interest\", not both: "
                                    "a team you did not meet cannot be a conflict, and a conflict means you do not score.")
            return False
        if self.absent.data or self.conflict.data:
            return ok  # no rating given, so none is required
        raw = {c.name: self.criterion_field(c).data for c in self.criteria}
        clean, errors = validate_values(raw, [c.as_spec() for c in self.criteria])
        for c in self.criteria:
            if c.name in errors:
                self.criterion_field(c).errors.append(errors[c.name])
        self.clean_values = {c.id: clean[c.name] for c in self.criteria if c.name in clean}
        return ok and not errors


def score_form_for(criteria, score=None, **kwargs) -> ScoreForm:
    """A ScoreForm with one radio group per criterion, filled from an existing score if given.

    Pass `score` only to show a saved sheet: on a submission the sheet must be exactly what was
    sent, and WTForms would otherwise fill a field missing from the request with the old value.
    """

    class RubricScoreForm(ScoreForm):
        pass

    for c in criteria:
        choices = [str(v) for v in range(c.scale_max, c.scale_min - 1, -1)]
        # Choices are checked against the rubric in validate(), which says why a value is refused.
        setattr(RubricScoreForm, f"criterion_{c.id}",
                RadioField(c.name, choices=choices, validate_choice=False, description=c.description))
    data = {}
    if score is not None:
        data = {"comment": score.comment, "private_note": score.private_note,
                "absent": score.absent, "conflict": score.conflict}
        for v in score.values:
            data[f"criterion_{v.criterion_id}"] = str(v.value)
    form = RubricScoreForm(data=data, **kwargs)
    form.criteria = list(criteria)
    return form
