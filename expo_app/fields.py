"""Form fields shared by every blueprint."""
from wtforms import IntegerField

MAX_DIGITS = 9  # every whole number we keep fits a 32-bit column


class WholeNumberField(IntegerField):
    """An IntegerField that refuses numbers no column can hold, with a message (WTForms' own
    NumberRange crashes on a 400-digit number: it cannot be turned into a float)."""

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist[0].strip().lstrip("+-")) > MAX_DIGITS:
            self.data = None
            raise ValueError(f"Not a whole number we can use: at most {MAX_DIGITS} digits.")
        super().process_formdata(valuelist)
