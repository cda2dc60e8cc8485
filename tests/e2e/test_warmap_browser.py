"""The war map in a real browser (contract §9): Debian's headless Chromium driven by Playwright for Python, pointed at
the system browser (never `playwright install`). county-viewer logs in, the tiles show the numbers of
`GET /dashboard/divisions/{code}`, drills into a town and a village (masked names, no ID numbers), another county's
URL is not found, English switch, log out. Screenshots of each page go to `.run/test-output/warmap/`
(FUPIN_TEST_OUTPUT overrides). Skipped, with the reason, only where Chromium is missing and cannot be installed."""

import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import GATEWAY, ID_NUMBER

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
COUNTY = "610723"  # county-viewer's county (gateway.officials.demo)
OTHER_COUNTY = "610724"
OUTPUT = Path(os.environ.get("FUPIN_TEST_OUTPUT", Path(__file__).resolve().parents[2] / ".run" / "test-output"))


def _chromium() -> Path | None:
    """The system Chromium; one attempt to install Debian's package where it is missing and we may (root, apt)."""
    if CHROMIUM.is_file():
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get") and os.environ.get("FUPIN_NO_APT") != "1":
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium", "fonts-wqy-microhei"], capture_output=True,
                       timeout=600, check=False)
    return CHROMIUM if CHROMIUM.is_file() else None


def fmt_int(value: Any) -> str:
    return f"{int(value):,}"


def fmt_money(value: str) -> str:
    whole, _, cents = value.partition(".")
    return f"{int(whole):,}.{cents or '00'}"


def fmt_pct(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.2f}%"


def expected_tiles(d: dict[str, Any]) -> dict[str, str]:
    """What each tile must show for the API's answer (the app's display rules)."""
    mc = d["microcredit"]
    return {"population": fmt_int(d["population"]), "poor_persons": fmt_int(d["poor_persons"]),
            "incidence": fmt_pct(d["incidence"]), "registered": fmt_int(d["households"]["registered"]),
            "exits": fmt_int(d["exits"]["households_this_year"]),
            "villages_exited": fmt_int(d["exits"]["villages_exited"]),
            "counties_exited": fmt_int(d["exits"]["counties_exited"]), "loans": fmt_int(mc["loans"]),
            "households_with_loans": fmt_int(mc["households_with_loans"]), "loan_rate": fmt_pct(mc["loan_rate"]),
            "outstanding": fmt_money(mc["outstanding"]), "grants": fmt_int(d["education"]["grants"]),
            "grants_amount": fmt_money(d["education"]["amount"]),
            "settlements": fmt_int(d["medical"]["settlements"]),
            "paid_by_payers": fmt_money(d["medical"]["paid_by_payers"]),
            "patient_paid": fmt_money(d["medical"]["patient_paid"])}


async def _shown(page: Any, keys: list[str]) -> dict[str, str]:
    return {k: (await page.get_by_test_id(f"value-{k}").inner_text()).strip() for k in keys}


async def _tiles_match_api(page: Any, code: str, attempts: int = 8) -> dict[str, Any]:
    """The tiles equal the API's figures; events may land between the page's read and ours, so re-read a few times."""
    shown: dict[str, str] = {}
    expected: dict[str, str] = {}
    for _ in range(attempts):
        api = await page.request.get(f"{GATEWAY}/dashboard/divisions/{code}")  # the browser's own session cookie
        assert api.status == 200, await api.text()
        body: dict[str, Any] = await api.json()
        expected = expected_tiles(body)
        shown = await _shown(page, list(expected))
        if shown == expected:
            return body
        await page.reload()
        await page.get_by_test_id("division-name").wait_for()
    assert shown == expected
    return {}


async def _open(page: Any, code: str) -> None:
    await page.wait_for_selector(f'[data-testid="division-name"][data-code="{code}"]')


async def test_county_viewer_walks_the_war_map() -> None:
    async_api = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed "
                                                                 "(make venv installs it with dev[test])")
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no /usr/bin/chromium and `apt-get install -y chromium` was not possible here: the browser test "
                    "needs Debian's chromium package (see README, 'Browser tests')")
    out = OUTPUT / "warmap"
    out.mkdir(parents=True, exist_ok=True)
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(GATEWAY) else None)

            await page.goto(f"{GATEWAY}/")
            await page.get_by_test_id("username").wait_for()
            await page.screenshot(path=out / "01-login.png", full_page=True)
            await page.get_by_test_id("username").fill("county-viewer")
            await page.get_by_test_id("password").fill("wrong-password")
            await page.get_by_test_id("login-submit").click()
            await page.wait_for_selector('[data-testid="login-error"]:not(:empty)')
            assert await page.get_by_test_id("login-error").inner_text() == "用户名或密码错误"
            await page.get_by_test_id("password").fill("county-viewer-dev-password")
            await page.get_by_test_id("login-submit").click()
            await _open(page, COUNTY)
            county = await _tiles_match_api(page, COUNTY)
            assert "洋县" in await page.get_by_test_id("division-name").inner_text()
            cells = page.get_by_test_id("child")
            assert await cells.count() == len(county["children"]) > 0
            colours = {c["code"]: c["color"] for c in county["children"]}
            for i in range(await cells.count()):
                cell = cells.nth(i)
                assert colours[await cell.get_attribute("data-code")] == await cell.get_attribute("data-color")
            await page.screenshot(path=out / "02-county.png", full_page=True)

            town = county["children"][0]["code"]
            await page.locator(f'[data-testid="child"][data-code="{town}"]').click()
            await _open(page, town)
            town_body = await _tiles_match_api(page, town)
            assert COUNTY in [a["code"] for a in town_body["ancestors"]]
            assert await page.get_by_test_id("crumb").first.inner_text() == "洋县"
            await page.screenshot(path=out / "03-town.png", full_page=True)

            village = town_body["children"][0]["code"]
            await page.locator(f'[data-testid="child"][data-code="{village}"]').click()
            await _open(page, village)
            await _tiles_match_api(page, village)
            await page.get_by_test_id("households").wait_for()
            rows = page.get_by_test_id("household")
            listing = await (await page.request.get(
                f"{GATEWAY}/registry/warmap/villages/{village}/households?page=1&page_size=50")).json()
            assert await rows.count() == len(listing["households"]) > 0
            first = (await rows.first.inner_text()).split("\t")[0].strip()
            assert re.fullmatch(r".\*+", first), first  # a masked name: first character kept
            text = await page.inner_text("body")
            assert not ID_NUMBER.search(text)
            await page.screenshot(path=out / "04-village.png", full_page=True)

            await page.get_by_test_id("crumb").first.click()  # breadcrumbs back up to the county
            await _open(page, COUNTY)

            await page.goto(f"{GATEWAY}/#/d/{OTHER_COUNTY}")
            await page.get_by_test_id("not-found").wait_for()
            assert (await page.request.get(f"{GATEWAY}/dashboard/divisions/{OTHER_COUNTY}")).status == 404
            await page.screenshot(path=out / "05-not-found.png", full_page=True)

            await page.goto(f"{GATEWAY}/#/d/{COUNTY}")
            await _open(page, COUNTY)
            await page.get_by_test_id("lang").click()
            await page.wait_for_selector('html[lang="en"]')
            await page.get_by_test_id("tile-poor_persons").get_by_text("Poor persons").wait_for()
            await page.screenshot(path=out / "06-english.png", full_page=True)
            await page.get_by_test_id("lang").click()
            await page.wait_for_selector('html[lang="zh-CN"]')

            await page.get_by_test_id("logout").click()
            await page.get_by_test_id("username").wait_for()
            assert (await page.request.get(f"{GATEWAY}/auth/me")).status == 401
            assert (await page.request.get(f"{GATEWAY}/dashboard/divisions/{COUNTY}")).status == 401
            await page.screenshot(path=out / "07-logged-out.png", full_page=True)
            assert outside == [], f"the app loaded resources from outside the stack: {outside}"
        finally:
            await browser.close()
