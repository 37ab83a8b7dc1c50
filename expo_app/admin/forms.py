from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, EmailField, FloatField, SelectField, StringField, SubmitField, \
    TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from ..fields import WholeNumberField
from ..models import PAPER_SIZES, SCORING_STATES, Event
from ..site_settings import BaseUrlError, normalise_base_url

# A new event's judges per team (k): the model's default, so that the form, create_event and the
# organiser guide's "4 for new events" say the same.
DEFAULT_JUDGES_PER_TEAM = Event.__table__.c.judges_per_team.default.arg


class EventForm(FlaskForm):
    name = StringField("Event name", validators=[DataRequired(), Length(max=200)])
    held_on = DateField("Date", validators=[Optional()])
    venue = StringField("Venue", validators=[Optional(), Length(max=200)])
    judges_per_team = WholeNumberField("Judges wanted per team", default=DEFAULT_JUDGES_PER_TEAM,
                                   validators=[DataRequired(), NumberRange(min=1, max=50)])
    paper_size = SelectField("Paper for printing", choices=list(PAPER_SIZES), default="A4",
                             description="Placards, badges and certificates are laid out for this paper.")
    instructor_name = StringField("Certificates signed by", validators=[Optional(), Length(max=120)],
                                  description="The instructor's or organiser's name under the signature line.")
    instructor_title = StringField("Signer's title", validators=[Optional(), Length(max=200)],
                                   description="For example: Instructor, Graduate MLOps course.")
    feedback_named = BooleanField("Show judges' names with their comments to the teams (anonymous otherwise)")
    conflicted_may_score = BooleanField(
        "Let a judge with a known conflict of interest still score that team (the sheet is set aside, not counted, "
        "until you count it on the Scores page). Off: the phone offers only “declare conflict”.")
    grade_scale = TextAreaField("Letter scale", validators=[Optional(), Length(max=2000)],
                                description="One letter and its minimum percent per line, best first, ending at 0 "
                                            "(the syllabus scale: A 94, A- 88, ..., C- 52, F 0).")
    submit = SubmitField("Save event")

    def validate_grade_scale(self, field):
        from ..scoring.grades import ScaleError, parse_scale

        try:
            parse_scale(field.data)
        except ScaleError as exc:
            raise ValidationError(" ".join(exc.errors)) from None


class ScoringStateForm(FlaskForm):
    state = SelectField("Scoring", choices=list(SCORING_STATES))
    confirm_lock = BooleanField("I understand: locked scores are final, and judges' badges stop signing in")
    submit = SubmitField("Change scoring state")

    def validate_confirm_lock(self, field):
        if self.state.data == "locked" and not field.data:
            raise ValidationError("Tick the box to lock: locked scores can never change again.")


class CriterionForm(FlaskForm):
    name = StringField("Criterion", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("What judges should look for", validators=[Optional(), Length(max=2000)])
    weight = FloatField("Weight", default=1.0, validators=[DataRequired(), NumberRange(min=0.01, max=1000)])
    scale_min = WholeNumberField("Lowest level", default=1, validators=[InputRequired(message="Give a whole number."),
                                                                    NumberRange(min=0, max=100)])
    scale_max = WholeNumberField("Highest level", default=5, validators=[InputRequired(), NumberRange(min=1, max=100)])
    descriptors = TextAreaField(
        "Level descriptors", validators=[Optional(), Length(max=8000)],
        description="One per line: '5: Complete and robust' for a level, or '1-2: Missing key parts' for a band.")
    submit = SubmitField("Save criterion")


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=120)])
    project = StringField("Project title", validators=[Optional(), Length(max=300)])
    table_number = WholeNumberField("Table number", validators=[DataRequired(message="Give a table number of 1 or more."),
                                                            NumberRange(min=1, max=100000)])
    members = TextAreaField("Members", validators=[Optional(), Length(max=8000)],
                            description="One per line: Name <email>, optionally followed by the student id")
    companies = StringField("Companies the team works with", validators=[Optional(), Length(max=300)],
                            description="Sponsors or clients, separated by ';'. Judges from them are never sent to this team.")
    submit = SubmitField("Save team")


class JudgeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    affiliation = StringField("Affiliation", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Save judge")


class ImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file."),
                                             FileAllowed(["csv", "txt"], "Upload a .csv file.")])
    submit = SubmitField("Import")


class ConfirmForm(FlaskForm):
    """A bare POST form: CSRF and a button, for deletes and other one-click actions."""

    submit = SubmitField("Confirm")


class TickedConfirmForm(FlaskForm):
    """An action that makes printed paper or a sign-in stop working: CSRF and a box to tick that says what
    stops working. Without the tick nothing changes and `refusal` says why. Each page gives each such
    form its own prefix, so that two on one page have their own field ids."""

    understood = BooleanField("I understand")
    refusal = "Nothing changed: tick the box to confirm."

    def validate_understood(self, field):
        if not field.data:
            raise ValidationError(self.refusal)


class RemoveTeamForm(TickedConfirmForm):
    understood = BooleanField("I understand: this team's printed table placard stops working, and if the team is "
                              "added again it gets a new table code, so its placard must be printed again.")
    refusal = "Nothing changed: tick “I understand” to remove the team (its printed placard would stop working)."


class ReissueFeedbackLinkForm(TickedConfirmForm):
    understood = BooleanField("I understand: the link on the team's printed slip stops working, so I print a new "
                              "slip for the team.")
    refusal = ("Nothing changed: tick “I understand” to reissue the feedback link (the link on the printed slip "
               "would stop working).")


class RemoveJudgeForm(TickedConfirmForm):
    understood = BooleanField("I understand: this judge's printed badge stops working, and phones signed in with "
                              "it are signed out.")
    refusal = "Nothing changed: tick “I understand” to remove the judge (their printed badge would stop working)."


class ReissueBadgeForm(TickedConfirmForm):
    understood = BooleanField("I understand: the badge this judge holds now stops working (phones signed in with "
                              "it are signed out), so I print the new badge.")
    refusal = "Nothing changed: tick “I understand” to reissue the badge (the printed badge would stop working)."


class WithdrawBadgeForm(TickedConfirmForm):
    understood = BooleanField("I understand: this badge stops signing in, and phones signed in with it are signed "
                              "out, until I let it work again.")
    refusal = "Nothing changed: tick “I understand” to withdraw the badge (it would stop signing in)."


class SiteSettingsForm(FlaskForm):
    public_base_url = StringField(
        "Public address of this site", validators=[Length(max=2000)],
        description="The address judges' and students' phones reach, for example https://expo.example.org or "
                    "http://192.168.1.20:5000: every printed QR code and link starts with it.")
    submit = SubmitField("Save settings")

    def validate_public_base_url(self, field):
        try:
            normalise_base_url(field.data)
        except BaseUrlError as exc:
            raise ValidationError(str(exc)) from None
