"""The staff pages on real screen sizes, in Chromium against a real server: a laptop (1366×768) and a phone (390×844).

- laptop: Admin Pusat's header (the most links) is one line; the account menu holds the public pages and sign-out;
- phone: the header is a compact bar whose Menu opens to every link; the inbox cards show each value with its
  column's name beside it; the case diagram first shows the whole drawing in its box, and its buttons (mouse or
  keyboard) zoom it, a mouse drag pans it, and it shows whole again;
- every other page with a diagram (history, the heatmap on /rekap, the analyst's version page) shows it whole too.
"""

from __future__ import annotations

import pytest

from tests.e2e.support import Actor, expect
from tests.e2e.test_sop_in_browser import submit_complaint

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
STAFF_LINKS = ("Tugas", "Semua laporan", "Rekap", "Versi proses", "Administrasi", "Notifikasi")
ACCOUNT_LINKS = ("Sampaikan laporan", "Lacak laporan", "Laporan publik", "English", "Keluar (pusat)")
COLUMNS = ["Tugas", "Laporan", "Kategori", "Masuk", "Batas waktu"]
COLLAPSED_HEADER = 64  # px: a phone's bar, no taller than a one-line app bar
TOUCH_TARGET = 44  # px: the smallest comfortable target for a finger (WCAG 2.5.5)


def header_item(actor: Actor, name: str):
    """A link or button of the header by its visible name (the Tugas link also carries its count badge)."""
    header = actor.page.locator("header.top")
    return header.get_by_role("link", name=name).or_(header.get_by_role("button", name=name, exact=True)).first


def middle(item) -> float:
    box = item.bounding_box(timeout=5_000)
    assert box is not None, f"{item} is not shown"
    return box["y"] + box["height"] / 2


def svg_width(actor: Actor) -> float:
    return float(actor.page.locator("#diagram svg").evaluate("svg => svg.getBoundingClientRect().width"))


def assert_whole(actor: Actor, page: str) -> dict[str, float]:
    """The diagram's drawing lies inside its box, nothing to scroll, and it fills the box's width or its maximum height."""
    fit = actor.page.locator("#diagram").evaluate(
        """box => {
            const b = box.getBoundingClientRect(), s = box.querySelector('svg').getBoundingClientRect(), css = getComputedStyle(box);
            const inner = {left: b.left + box.clientLeft, top: b.top + box.clientTop, width: box.clientWidth, height: box.clientHeight};
            const most = parseFloat(css.maxHeight) - parseFloat(css.borderTopWidth) - parseFloat(css.borderBottomWidth);
            return {left: s.left - inner.left, top: s.top - inner.top, right: inner.left + inner.width - s.right,
                    bottom: inner.top + inner.height - s.bottom, width: s.width, height: s.height, boxWidth: inner.width,
                    most: most, scrollX: box.scrollWidth - box.clientWidth, scrollY: box.scrollHeight - box.clientHeight};
        }"""
    )
    assert min(fit["left"], fit["top"], fit["right"], fit["bottom"]) >= -1, f"{page}: the drawing runs out of its box: {fit}"
    assert fit["scrollX"] <= 1 and fit["scrollY"] <= 1, f"{page}: the whole view still scrolls: {fit}"
    assert fit["boxWidth"] - fit["width"] <= 2 or fit["most"] - fit["height"] <= 2, f"{page}: the drawing does not fill its box: {fit}"
    return fit


def test_laptop_and_phone(stage) -> None:
    s = stage()
    tracking_id, _link = submit_complaint(
        s.actor("pelapor"),
        {
            "title": "Lampu penerangan jalan padam di Jl. Raya Darmo",
            "body": "Sudah dua minggu lampu penerangan jalan di depan Taman Bungkul padam; malam hari jalan gelap.",
            "category": "infrastruktur",
            "reporter.name": "Sri Wahyuni",
            "reporter.email": "sri.wahyuni@warga.example.id",
        },
    )

    # laptop: one line, every staff link on it; the account menu opens to the public pages and sign-out
    pusat = s.actor("pusat")
    pusat.page.set_viewport_size(LAPTOP)
    pusat.login("pusat")
    header = pusat.page.locator("header.top")
    account, menu = header.locator("details.account > summary"), header.locator("details.menu > summary")
    brand = header.locator(".brand")
    middles = {name: middle(header_item(pusat, name)) for name in STAFF_LINKS} | {"brand": middle(brand), "pusat": middle(account)}
    assert max(middles.values()) - min(middles.values()) <= 4, f"the header wraps at 1366 px: {middles}"
    one_line = 2 * (brand.bounding_box() or {"height": 0})["height"]  # the brand's line box, with the bar's padding
    assert (header.bounding_box() or {"height": 1e9})["height"] <= one_line, "the header is taller than one line"
    expect(menu).to_be_hidden()
    for name in ACCOUNT_LINKS:
        expect(header_item(pusat, name)).to_be_hidden()
    expect(account).to_have_text("Akun pusat")
    account.click()
    for name in ACCOUNT_LINKS:
        expect(header_item(pusat, name)).to_be_visible()
    pusat.shot("laptop-akun")
    pusat.page.keyboard.press("Escape")
    expect(header_item(pusat, "Keluar (pusat)")).to_be_hidden()

    # phone: a compact bar; its Menu shows every link, each a finger-sized target within the screen
    pusat.page.set_viewport_size(PHONE)
    pusat.goto("/tugas")
    height = (header.bounding_box() or {"height": 1e9})["height"]
    assert height <= COLLAPSED_HEADER, f"the collapsed header is {height:.0f} px tall"
    for name in (*STAFF_LINKS, *ACCOUNT_LINKS):
        expect(header_item(pusat, name)).to_be_hidden()
    expect(menu).to_have_text("Menu")
    menu.click()
    for name in (*STAFF_LINKS, *ACCOUNT_LINKS):
        item = header_item(pusat, name)
        expect(item).to_be_visible()
        box = item.bounding_box() or {"x": -1, "width": 0, "height": 0}
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name!r} leaves the screen: {box}"
        assert box["height"] >= TOUCH_TARGET - 0.5, f"{name!r} is {box['height']:.0f} px tall, too small to tap"
    pusat.shot("ponsel-menu")
    menu.click()
    expect(header_item(pusat, "Rekap")).to_be_hidden()

    # phone inbox: each card shows its values with the column names beside them
    kominfo = s.actor("kominfo")
    kominfo.page.set_viewport_size(PHONE)
    kominfo.login("kominfo")
    row = kominfo.inbox_row(tracking_id)
    expect(row).to_have_count(1)
    cells = row.locator("td[data-label]").evaluate_all(
        """tds => tds.map(td => {
            const label = getComputedStyle(td, '::before'), cell = td.getBoundingClientRect();
            const range = document.createRange(); range.selectNodeContents(td);
            const value = range.getClientRects()[0];
            return {label: label.content, display: label.display, labelRight: cell.left + parseFloat(label.left) + parseFloat(label.width),
                    labelTop: cell.top + parseFloat(label.top), valueLeft: value.left, valueTop: value.top, valueText: td.innerText.trim()};
        })"""
    )
    assert [c["label"] for c in cells] == [f'"{name}"' for name in COLUMNS], cells
    for cell in cells:
        assert cell["display"] != "none" and cell["valueText"], cell
        assert cell["valueLeft"] >= cell["labelRight"], f"the value sits under its label, not beside it: {cell}"
        assert abs(cell["valueTop"] - cell["labelTop"]) <= 6, f"the label and its value are not on one line: {cell}"
    kominfo.shot("ponsel-kotak-tugas", doc="kotak-tugas-ponsel")

    # phone case page: the diagram shows whole; the buttons zoom it (mouse and keyboard), a drag pans it, it shows whole again
    pusat.goto(f"/kasus/{tracking_id}")
    diagram = pusat.page.locator("#diagram")
    expect(diagram.locator("svg")).to_be_visible()
    box_width = float(diagram.evaluate("box => box.clientWidth"))
    fitted = assert_whole(pusat, "phone case page")["width"]
    assert box_width <= PHONE["width"], f"the diagram's box is {box_width:.0f} px wide on a {PHONE['width']} px phone"
    assert pusat.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    zoom_in, zoom_out, fit = (pusat.page.get_by_role("button", name=name, exact=True) for name in ("Perbesar", "Perkecil", "Tampilkan seluruhnya"))
    for button in (zoom_in, zoom_out, fit):
        assert (button.bounding_box() or {"height": 0})["height"] >= TOUCH_TARGET - 0.5
    zoom_in.click()
    once = svg_width(pusat)
    assert once > fitted * 1.2, f"Perbesar did not zoom in: {fitted:.0f} -> {once:.0f} px"
    zoom_in.focus()
    pusat.page.keyboard.press("Enter")
    twice = svg_width(pusat)
    assert twice > once * 1.2, f"Perbesar by keyboard did not zoom in: {once:.0f} -> {twice:.0f} px"
    assert float(diagram.evaluate("box => box.scrollWidth")) > box_width, "the zoomed diagram cannot be scrolled"
    before = float(diagram.evaluate("box => box.scrollLeft"))
    middle_of_box = diagram.bounding_box()
    assert middle_of_box is not None
    x, y = middle_of_box["x"] + middle_of_box["width"] / 2, middle_of_box["y"] + middle_of_box["height"] / 2
    pusat.page.mouse.move(x, y)
    pusat.page.mouse.down()
    pusat.page.mouse.move(x - 80, y, steps=4)
    pusat.page.mouse.up()
    assert float(diagram.evaluate("box => box.scrollLeft")) >= before + 60, "dragging the zoomed diagram did not pan it"
    pusat.shot("ponsel-diagram", doc="diagram-ponsel")
    zoom_out.click()
    assert abs(svg_width(pusat) - once) <= 1, "Perkecil did not step back"
    fit.click()
    assert abs(svg_width(pusat) - fitted) <= 1, "Tampilkan seluruhnya did not show the whole diagram again"
    zoom_in.click()
    diagram.focus()
    pusat.page.keyboard.press("0")
    assert abs(svg_width(pusat) - fitted) <= 1, "0 on the focused diagram did not show it whole again"
    assert_whole(pusat, "phone case page, shown whole again")

    # laptop: the case page, its history, the heatmap on /rekap and the version page show their diagram whole
    pusat.page.set_viewport_size(LAPTOP)
    for page in (f"/kasus/{tracking_id}", f"/riwayat/{tracking_id}", "/rekap", "/proses/versi/1"):
        pusat.goto(page)
        expect(pusat.page.locator("#diagram svg")).to_be_visible()
        assert_whole(pusat, page)
    s.finish()
