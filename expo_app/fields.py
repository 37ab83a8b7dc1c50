"""Form fields shared by every blueprint."""
from wtforms import IntegerField
from wtforms.validators import StopValidation

MAX_DIGITS = 9  # every whole number we keep fits a 32-bit column


class WholeNumberField(IntegerField):
    """An IntegerField that refuses numbers no column can hold, with a message (WTForms' own
    NumberRange crashes on a 400-digit number: it cannot be turned into a float)."""

    TOO_LONG = f"Not a whole number we can use: at most {MAX_DIGITS} digits."

    def process_formdata(self, valuelist):
        self.too_long = bool(valuelist) and len(str(valuelist[0]).strip().lstrip("+-")) > MAX_DIGITS
        if self.too_long:
            self.data = None  # said in pre_validate, which no DataRequired can overwrite
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form):
        if getattr(self, "too_long", False):
            raise StopValidation(self.TOO_LONG)
        super().pre_validate(form)
