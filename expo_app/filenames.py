"""Names of the files the app hands out (PDFs, CSVs): readable ASCII, safe inside a Content-Disposition header."""
from __future__ import annotations

import re
import unicodedata


def slug(text: str, fallback: str = "event") -> str:
    """'MLOps Innovation Expo (Zürich)' -> 'mlops-innovation-expo-zurich': accents dropped, at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()[:60].strip("-") or fallback
