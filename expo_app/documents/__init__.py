"""Printed and downloadable matter: QR codes (and, as the product grows, PDFs)."""
