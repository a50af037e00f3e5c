"""The tree through the pages: subtree access, the periodic report page and its files."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from flask import Flask
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import counted_round, person, rated, work
from tests.web_fixtures import PASSWORD, csrf_token, login
from votes import operations

PERIOD = "from=2025-01-01&to=2025-12-31"


@pytest.fixture
def tree(app: Flask) -> dict[str, int]:
    """A province with two communes; an organizer for the province and one per commune."""
    factory: sessionmaker[Session] = app.extensions["votes.sessions"]
    ids: dict[str, int] = {}
    with factory() as session:
        task = work(session)
        operations.add_body(task, "T", "Tỉnh ủy Sơn La", level="province")
        operations.add_body(task, "XA", "Đảng ủy xã A", level="commune", parent="T")
        operations.add_body(task, "XB", "Đảng ủy xã B", level="commune", parent="T")
        for code, low in (("T", 6), ("XA", 1), ("XB", 7)):
            round_ = counted_round(
                session,
                task.body(code),
                year=2025,
                profile_id="qd96-2023",
                roster=[
                    person("Lò Văn Minh", "Bí thư", key="cb-001"),
                    person(f"Người {code}", "Phó Bí thư", key=f"cb-{code}"),
                ],
                columns=[rated(low, 10), rated(0, 10)],
            )
            ids[code] = round_.id
        operations.add_staff(task, "tinh", PASSWORD, "organizer", ["T"])
        operations.add_staff(task, "xa-a", PASSWORD, "organizer", ["XA"])
        operations.add_staff(task, "quantri", PASSWORD, "admin")
        session.commit()
    return ids


def _client(app: Flask, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, username).status_code in (200, 302)
    return client


def test_an_organizer_of_commune_a_sees_nothing_of_commune_b(
    app: Flask, tree: dict[str, int]
) -> None:
    client = _client(app, "xa-a")
    assert client.get("/admin/bodies/XA/report?" + PERIOD).status_code == 200
    for path in (
        "/admin/bodies/XB",
        "/admin/bodies/XB/report?" + PERIOD,
        "/admin/bodies/XB/report.pdf?" + PERIOD,
        "/admin/bodies/XB/report.xlsx?" + PERIOD,
        "/admin/bodies/XB/findings.xlsx",
        "/admin/bodies/T/report?" + PERIOD,
        f"/admin/rounds/{tree['XB']}",
        f"/admin/rounds/{tree['XB']}/results",
        f"/admin/rounds/{tree['XB']}/results.xlsx",
        f"/admin/rounds/{tree['XB']}/results.csv",
        f"/admin/rounds/{tree['XB']}/minutes.pdf",
        f"/api/v1/rounds/{tree['XB']}/results",
        f"/api/v1/rounds/{tree['T']}/results",
    ):
        assert client.get(path).status_code == 403, path
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Đảng ủy xã A" in dashboard
    assert "Đảng ủy xã B" not in dashboard
    assert "Tỉnh ủy Sơn La" not in dashboard
    assert client.get("/admin/packages").status_code == 403


def test_the_province_sees_its_communes_and_the_report(app: Flask, tree: dict[str, int]) -> None:
    client = _client(app, "tinh")
    dashboard = client.get("/admin/").get_data(as_text=True)
    for name in ("Tỉnh ủy Sơn La", "Đảng ủy xã A", "Đảng ủy xã B"):
        assert name in dashboard
    assert client.get(f"/api/v1/rounds/{tree['XB']}/results").status_code == 200
    page = client.get("/admin/bodies/T/report?" + PERIOD)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Lò Văn Minh is one person in three places, plus one other person in each: 4.
    assert re.search(r'data-testid="persons-polled">\s*4\s*<', html)
    workbook = client.get("/admin/bodies/T/report.xlsx?" + PERIOD)
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.data))["Tổng hợp"]
    header = [c.value for c in sheet[1]]
    low = header.index("Tín nhiệm thấp")
    assert sorted(r[low].value for r in sheet.iter_rows(2)) == [0, 0, 0, 1, 6, 7]
    pdf = client.get("/admin/bodies/T/report.pdf?" + PERIOD)
    assert pdf.status_code == 200
    words = unicodedata.normalize(
        "NFC", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages)
    )
    assert "Số người được lấy phiếu 4" in re.sub(r"\s+", " ", words)
    bad = client.get("/admin/bodies/T/report?from=2025-12-31&to=2025-01-01")
    assert bad.status_code == 422
    results = client.get(f"/admin/rounds/{tree['XB']}/results.xlsx")
    assert results.status_code == 200
    assert load_workbook(io.BytesIO(results.data))["Kết quả"].cell(row=2, column=2).value


def test_the_packages_page_refuses_a_bad_package(app: Flask, tree: dict[str, int]) -> None:
    client = _client(app, "quantri")
    page = client.get("/admin/packages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'data-testid="public-key">[0-9a-f]{64}<', html)
    response = client.post(
        "/admin/packages",
        data={
            "csrf_token": csrf_token(html),
            "package": (io.BytesIO(b"PK\x03\x04 broken"), "x.zip"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "zip" in response.get_data(as_text=True)
