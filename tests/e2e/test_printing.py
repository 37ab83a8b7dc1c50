"""Printing in a real browser: the organiser downloads placards and certificates, and a phone that
scans a certificate's QR code opens its verification page."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_ADMIN
from tests.pdfs import pdf_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def laptop(chromium, expo):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=expo.base_url,
                                   accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/admin/login")
    page.get_by_label("E-mail").fill(DEMO_ADMIN[0])
    page.get_by_label("Password").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    yield page
    context.close()


def test_organiser_prints_and_a_phone_verifies_a_certificate(laptop, phone, expo, shots_dir):
    laptop.get_by_role("link", name="Printing").first.click()
    expect(laptop.get_by_role("heading", name="Printing")).to_be_visible()
    expect(laptop.locator("#certificates")).to_contain_text("Award certificates are printed from the final awards only.")
    laptop.screenshot(path=str(shots_dir / "print-page.png"), full_page=True)

    with laptop.expect_download() as placards:
        laptop.locator("#placards").get_by_role("link", name="Download PDF").click()
    pages = pdf_pages(open(placards.value.path(), "rb").read())
    assert len(pages) == 12 and "Drift Busters" in pages[0]
    assert placards.value.suggested_filename == "mlops-innovation-expo-demo-placards.pdf"

    # Printing only reads: the first preview is a POST that issues the certificates (their codes).
    expect(laptop.locator("#participation")).to_contain_text("35 of 35 not issued yet")
    laptop.locator("#participation").get_by_role("button", name="Issue and preview").click()
    expect(laptop.get_by_text("Preview of 4 of 35 certificates on A4 paper")).to_be_visible()
    expect(laptop.locator(".certificate").first).to_contain_text("Certificate of Participation")
    laptop.screenshot(path=str(shots_dir / "print-preview.png"))
    verify_url = laptop.locator(".cert-url").first.inner_text().replace("\n", "").replace(" ", "")
    assert re.fullmatch(r"127\.0\.0\.1:\d+/v/[A-Z][0-9A-Z]{9}-[0-9A-Z]{16}", verify_url)

    # The phone scans the QR code under the certificate: the public page, no sign-in.
    phone.goto("http://" + verify_url)
    expect(phone.get_by_text("Valid certificate")).to_be_visible()
    recipient = laptop.locator(".cert-recipient").first.inner_text()
    expect(phone.locator(".facts")).to_contain_text(recipient)
    expect(phone.locator(".facts")).to_contain_text("Participation")
    phone.screenshot(path=str(shots_dir / "verify-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling

    # The organiser revokes it; the same scan now says so.
    laptop.goto(f"/admin/events/{expo.event_id}/certificates")
    row = laptop.locator("tr", has_text=recipient).first
    row.get_by_label("Reason (not shown publicly)").fill("Printed with the wrong team")
    row.get_by_role("button", name="Revoke").click()
    expect(laptop.get_by_text("certificate is revoked: its verification page says so")).to_be_visible()
    phone.reload()
    expect(phone.get_by_text("Revoked certificate")).to_be_visible()
    expect(phone.locator("body")).not_to_contain_text("wrong team")
