from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


class AdminLoginForm(FlaskForm):
    # No Email() check here: a login form only needs to say "no match", never why.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField("Sign in")


class StartJudgingForm(FlaskForm):
    submit = SubmitField("Start judging")


class SignOutForm(FlaskForm):
    submit = SubmitField("Sign out")
