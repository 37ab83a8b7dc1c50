from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class AdminLoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField("Sign in")


class StartJudgingForm(FlaskForm):
    submit = SubmitField("Start judging")


class SignOutForm(FlaskForm):
    submit = SubmitField("Sign out")
