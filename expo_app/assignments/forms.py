from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from ..fields import WholeNumberField


class PlanForm(FlaskForm):
    mode = RadioField("What to do", default="replan", choices=[
        SelectChoice("replan", "Re-plan: keep every scored visit and as much of the plan in force as possible"),
        SelectChoice("new", "New plan: start over (scored visits still stay)")])
    per_team = WholeNumberField("Judges per team (k)", validators=[InputRequired(), NumberRange(min=1, max=50)])
    seed = WholeNumberField("Seed", validators=[Optional(), NumberRange(min=0, max=2**31 - 1)],
                        description="The same seed gives the same plan; another seed, another plan.")
    submit = SubmitField("Make the plan")


class ConflictForm(FlaskForm):
    judge_id = SelectField("Judge", coerce=int)
    team_id = SelectField("Team", coerce=int)
    submit = SubmitField("Mark as a conflict")


class LayoutForm(FlaskForm):
    tables_per_row = WholeNumberField("Tables per row", validators=[Optional(), NumberRange(min=1, max=1000)],
                                  description="Rows are numbered back and forth (1–10 left to right, 11–20 back). "
                                              "Empty: one line in table order.")
    submit = SubmitField("Save the layout")


class RoutingForm(FlaskForm):
    live = BooleanField("Live routing: send each judge where one more score helps the ranking most",
                        description="Off: judges follow their list in order, skipping a table where two other judges "
                                    "are now. Either way, a judge whose list is done is sent where judges are needed most.")
    submit = SubmitField("Save routing")
