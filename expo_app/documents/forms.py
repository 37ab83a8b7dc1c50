from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class RevokeForm(FlaskForm):
    reason = StringField("Reason (kept for the organisers, not shown publicly)",
                         validators=[DataRequired("Say why the certificate is revoked."), Length(max=300)])
    submit = SubmitField("Revoke")
