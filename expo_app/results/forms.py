from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..fields import WholeNumberField


class AwardDecisionForm(FlaskForm):
    team = SelectField("Winner", coerce=int, validate_choice=True)
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)],
                           description="Needed when you choose a team other than the suggestion.")
    submit = SubmitField("Save decision")


class AwardCategoryForm(FlaskForm):
    name = StringField("Award name", validators=[DataRequired(), Length(max=120)])
    basis = SelectField("Given for", validate_choice=False)
    place = WholeNumberField("Place (overall awards)", validators=[Optional(), NumberRange(min=1, max=100)])
    submit = SubmitField("Add award")


class FinaliseForm(FlaskForm):
    understood = BooleanField("I understand: the awards and the ranking become final and cannot change",
                              validators=[DataRequired("Tick the box to confirm that the awards become final.")])
    submit = SubmitField("Finalise awards")


class ReleaseFeedbackForm(FlaskForm):
    understood = BooleanField("I have read the comments: every team may now see its scores, the judges' comments "
                              "and its awards", validators=[DataRequired("Tick the box to confirm the release.")])
    submit = SubmitField("Release feedback")


class HideCommentForm(FlaskForm):
    reason = StringField("Why hide it (kept in the audit log)",
                         validators=[DataRequired("Say why the comment is hidden."), Length(max=300)])
    submit = SubmitField("Hide from the team")


class SheetCountingForm(FlaskForm):
    """Set a score sheet aside (kept, not counted), or count a set-aside sheet again: always with a reason."""

    reason = StringField("Reason (kept in the audit log)",
                         validators=[DataRequired("Say why: the reason is kept in the audit log."), Length(max=300)])


class RedactCommentForm(FlaskForm):
    """Replace what a team will read of a judge's comment; the original stays in the audit log."""

    text = TextAreaField("What the team reads instead",
                         validators=[DataRequired("Write what the team should read (or hide the comment instead)."),
                                     Length(max=2000)])
    reason = StringField("Why redact it (kept in the audit log)",
                         validators=[DataRequired("Say why the comment is redacted."), Length(max=300)])
    submit = SubmitField("Redact")
