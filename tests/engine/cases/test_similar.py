"""Similar complaints (engine/cases/similar.py) on the backend LAPOR_TEST_DB chooses: realistic Indonesian complaints,
the repeat first, the unrelated absent or below, proximity, the recent window, the limit, never the case itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine import Actor, Forbidden, NotFound
from engine.cases import similar
from engine.cases.ids import new_tracking_id
from engine.cases.service import search_text
from engine.db.tables import Case, Definition
from tests.scenarios import COMPLAINT

_numbers = count(1)

ROAD = {
    "title": "Jalan rusak berlubang di Jl. Raya Waru Sidoarjo",
    "location": "Jl. Raya Waru, Sidoarjo",
    "body": "Jalan di depan Pasar Waru rusak parah dan berlubang besar. Sudah banyak pengendara motor jatuh, mohon segera diaspal.",
    "category": "infrastruktur",
}
ROAD_AGAIN = {  # the same hole, told by someone else in other words
    "title": "Aspal berlubang parah depan Pasar Waru",
    "location": "Waru, Sidoarjo",
    "body": "Lubang besar di jalan raya depan pasar Waru membahayakan pengendara, kemarin ada pemotor jatuh. Tolong diperbaiki.",
    "category": "infrastruktur",
}
SCHOOL_FEE = {
    "title": "Pungutan uang gedung SMP Negeri 3 Malang",
    "location": "Kota Malang",
    "body": "Sekolah meminta uang gedung Rp 2.500.000 kepada wali murid baru, padahal sekolah negeri seharusnya gratis.",
    "category": "pendidikan",
}
LAND = {
    "title": "Sertifikat tanah belum terbit setelah dua tahun",
    "location": "Kantor Pertanahan Kabupaten Gresik",
    "body": "Saya mengurus sertifikat tanah warisan di BPN Gresik sejak 2024 dan berkasnya belum diproses sampai sekarang.",
    "category": "pertanahan",
}
HOSPITAL = {
    "title": "Antrean BPJS di RSUD Dr. Soetomo sangat lama",
    "location": "Surabaya",
    "body": "Pasien BPJS harus antre dari subuh sampai sore untuk kontrol di poli jantung RSUD Dr. Soetomo.",
    "category": "kesehatan",
}
OTHER_ROAD = {  # the same category and the word "jalan", but another road in another town
    "title": "Lampu penerangan jalan mati di Jombang",
    "location": "Jl. Gatot Subroto, Jombang",
    "body": "Lampu penerangan jalan umum di sepanjang Jl. Gatot Subroto mati sejak sebulan, rawan kejahatan malam hari.",
    "category": "infrastruktur",
}
WARU = (-7.3519, 112.7296)  # Pasar Waru, Sidoarjo


def add(
    session: Session,
    complaint: dict,
    now: datetime,
    *,
    status: str = "diterima",
    days_ago: float = 0,
    closed_days_ago: float | None = None,
    at: tuple[float, float] | None = None,
    confidential: bool = False,
    duplicate_of: str | None = None,
) -> Case:
    """A case row as a submission stores it (its search_text from engine.cases.service), without running the model."""
    submitted = now - timedelta(days=days_ago)
    number = next(_numbers)
    case = Case(
        tracking_id=new_tracking_id(),
        access_token_hash=f"{number:064d}",
        definition_id=session.scalar(select(Definition.id).order_by(Definition.id.desc()).limit(1)),
        status=status,
        title=complaint["title"],
        category=complaint["category"],
        confidential=confidential,
        latitude=at[0] if at else None,
        longitude=at[1] if at else None,
        search_text=search_text(complaint),
        archive_reason="duplikat" if duplicate_of else None,
        duplicate_of=duplicate_of,
        submitted_at=submitted,
        updated_at=submitted,
        closed_at=None if closed_days_ago is None else now - timedelta(days=closed_days_ago),
        state="",
        breached=[],
    )
    session.add(case)
    session.flush()
    return case


def ids(found: list[similar.Similar]) -> list[str]:
    return [item.tracking_id for item in found]


@pytest.fixture
def now(clock) -> datetime:
    return clock.now()


def test_the_repeat_ranks_first_and_unrelated_complaints_are_absent(session, now):
    road = add(session, ROAD, now)
    again = add(session, ROAD_AGAIN, now, days_ago=3)
    other_road = add(session, OTHER_ROAD, now, days_ago=1)
    for complaint in (SCHOOL_FEE, LAND, HOSPITAL):
        add(session, complaint, now, days_ago=2)
    found = similar.similar_cases(session, road, now=now)
    assert found[0].tracking_id == again.tracking_id
    assert found[0] == similar.Similar(again.tracking_id, ROAD_AGAIN["title"], "diterima", "infrastruktur", found[0].score)
    assert 0 < found[0].score <= 1
    assert set(ids(found)) <= {again.tracking_id, other_road.tracking_id}, "a school fee, a land certificate, a hospital queue are not a road"
    if other_road.tracking_id in ids(found):
        assert found[1].score < found[0].score
    # and the other way round
    assert similar.similar_cases(session, again, now=now)[0].tracking_id == road.tracking_id


def test_each_kind_of_complaint_finds_its_own_repeat(session, now):
    fee = add(session, SCHOOL_FEE, now)
    land = add(session, LAND, now)
    fee_again = add(
        session,
        {
            "title": "Uang gedung di SMPN 3 Malang",
            "location": "Malang",
            "body": "Wali murid diminta bayar uang gedung, sekolah negeri kok ada pungutan.",
            "category": "pendidikan",
        },
        now,
        days_ago=5,
    )
    land_again = add(
        session,
        {
            "title": "Pengurusan sertifikat tanah di BPN Gresik mandek",
            "location": "Gresik",
            "body": "Berkas sertifikat tanah belum diproses.",
            "category": "pertanahan",
        },
        now,
        days_ago=5,
    )
    add(session, ROAD, now)
    assert ids(similar.similar_cases(session, fee, now=now)) == [fee_again.tracking_id]
    assert ids(similar.similar_cases(session, land, now=now)) == [land_again.tracking_id]


def test_the_case_itself_is_never_listed(session, now):
    road = add(session, ROAD, now)
    assert similar.similar_cases(session, road, now=now) == []
    twin = add(session, ROAD, now, days_ago=1)  # word for word the same complaint
    found = similar.similar_cases(session, road, now=now)
    assert ids(found) == [twin.tracking_id]
    assert found[0].score >= 0.9


def test_nearby_coordinates_lift_a_case(session, now):
    road = add(session, ROAD, now, at=WARU)
    vague = {"title": "Jalan rusak", "location": "Sidoarjo", "body": "Jalannya rusak dan berbahaya.", "category": "infrastruktur"}
    far = add(session, vague, now, days_ago=1, at=(-7.45, 112.70))  # about 11 km south
    near = add(session, vague, now, days_ago=1, at=(WARU[0] + 0.001, WARU[1] + 0.001))  # about 150 m away
    found = {item.tracking_id: item.score for item in similar.similar_cases(session, road, now=now)}
    assert found[near.tracking_id] > found.get(far.tracking_id, 0)
    assert ids(similar.similar_cases(session, road, now=now))[0] == near.tracking_id


def test_a_case_at_the_same_spot_is_listed_even_in_other_words_and_category(session, now):
    road = add(session, ROAD, now, at=WARU)
    flood = {"title": "Banjir setinggi lutut", "location": "", "body": "Air menggenang setiap hujan deras.", "category": "lainnya"}
    here = add(session, flood, now, at=(WARU[0] + 0.0005, WARU[1]))  # about 55 m
    add(session, flood, now, at=(-7.25, 112.75))  # Surabaya, 11 km away
    assert ids(similar.similar_cases(session, road, now=now)) == [here.tracking_id]


def test_closed_long_ago_is_out_but_open_or_recent_cases_are_in(session, now):
    road = add(session, ROAD, now)
    old_open = add(session, ROAD_AGAIN, now, status="ditindaklanjuti", days_ago=400)
    recently_closed = add(session, ROAD_AGAIN, now, status="selesai", days_ago=200, closed_days_ago=10)
    add(session, ROAD_AGAIN, now, status="selesai", days_ago=400, closed_days_ago=300)
    add(session, ROAD_AGAIN, now, status="diarsipkan", days_ago=similar.RECENT_DAYS + 5, closed_days_ago=similar.RECENT_DAYS + 1)
    recent_archived = add(session, ROAD_AGAIN, now, status="diarsipkan", days_ago=20, closed_days_ago=19)
    assert set(ids(similar.similar_cases(session, road, now=now))) == {old_open.tracking_id, recently_closed.tracking_id, recent_archived.tracking_id}


def test_at_most_ten_best_first(session, now):
    road = add(session, ROAD, now)
    for day in range(14):
        add(session, ROAD_AGAIN, now, days_ago=day + 1)
    exact = add(session, ROAD, now, days_ago=30)
    found = similar.similar_cases(session, road, now=now)
    assert len(found) == similar.LIMIT == 10
    assert found[0].tracking_id == exact.tracking_id
    scores = [item.score for item in found]
    assert scores == sorted(scores, reverse=True)
    assert len(similar.similar_cases(session, road, now=now, limit=3)) == 3
    assert len(similar.similar_cases(session, road, now=now, limit=50)) == 10


def test_confidential_cases_are_listed_for_the_liaison_and_duplicates_are_marked(session, now):
    road = add(session, ROAD, now)
    secret = add(session, ROAD_AGAIN, now, days_ago=1, confidential=True)
    dup = add(session, ROAD_AGAIN, now, status="diarsipkan", days_ago=2, closed_days_ago=2, duplicate_of=road.tracking_id)
    found = {item.tracking_id: item for item in similar.similar_cases(session, road, now=now)}
    assert secret.tracking_id in found and found[secret.tracking_id].duplicate_of is None
    assert found[dup.tracking_id].duplicate_of == road.tracking_id
    assert found[dup.tracking_id].to_dict() == {
        "tracking_id": dup.tracking_id,
        "title": ROAD_AGAIN["title"],
        "status": "diarsipkan",
        "category": "infrastruktur",
        "score": found[dup.tracking_id].score,
        "duplicate_of": road.tracking_id,
    }


def test_duplicates_of_lists_the_cases_archived_as_repeating_it(session, now):
    road = add(session, ROAD, now, days_ago=10)
    first = add(session, ROAD_AGAIN, now, status="diarsipkan", days_ago=5, closed_days_ago=5, duplicate_of=road.tracking_id)
    second = add(session, ROAD, now, status="diarsipkan", days_ago=1, closed_days_ago=1, duplicate_of=road.tracking_id)
    add(session, LAND, now, status="diarsipkan", closed_days_ago=1)
    assert similar.duplicates_of(session, road.tracking_id) == [first.tracking_id, second.tracking_id]
    assert similar.duplicates_of(session, first.tracking_id) == []


def test_a_submitted_complaint_is_found_by_its_words(service, session, clock):
    """Through the façade: the search_text a submission stores is what the search reads; the identity is not in it."""
    first = service.submit({**COMPLAINT, "title": "Atap kelas SMA Negeri 1 Surabaya bocor"}).case
    second = service.submit({**COMPLAINT, "reporter": {"name": "Budi", "email": "budi@example.id"}}).case
    session.commit()
    assert "Siti" not in first.search_text
    assert ids(similar.similar_cases(session, second, now=clock.now())) == [first.tracking_id]


def test_only_the_liaison_desk_may_ask(session, now):
    road = add(session, ROAD, now)
    again = add(session, ROAD_AGAIN, now)
    for role in ("kominfo", "pusat"):
        assert ids(similar.similar_for(session, road.tracking_id, Actor("x", role), now=now)) == [again.tracking_id]
    for actor in (Actor("a", "auditor"), Actor("s", "satker", "dinas-pendidikan"), Actor("n", "analis")):
        with pytest.raises(Forbidden):
            similar.similar_for(session, road.tracking_id, actor, now=now)
    with pytest.raises(NotFound):
        similar.similar_for(session, "LPR-XXXXXX", Actor("x", "kominfo"), now=now)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jalan RUSAK di depan pasar, sudah 3 bulan!", ["jalan", "rusak", "depan", "pasar"]),
        ("Pelayanan di RSUD dr. Soetomo", ["pelayanan", "rsud", "soetomo"]),
        ("Kenaikan biaya SPP tahun 2026", ["kenaikan", "biaya", "spp"]),
    ],
)
def test_significant_words(text, expected):
    assert similar.words(text) == expected


def test_title_trigrams_meet_across_affixes():
    assert similar.jaccard(similar.trigrams(["berlubang"]), similar.trigrams(["lubang"])) > 0.3
    assert similar.jaccard(similar.trigrams(["berlubang"]), similar.trigrams(["sertifikat"])) == 0


def test_distance_and_nearness():
    assert similar.distance_km(-7.2575, 112.7521, -7.2575, 112.7521) == 0
    assert similar.distance_km(-7.2575, 112.7521, -7.4478, 112.7183) == pytest.approx(21.4, abs=0.5)  # Surabaya - Sidoarjo
    assert similar.nearness(None) == 0 and similar.nearness(0.1) == 1 and similar.nearness(similar.FAR_KM) == 0
    assert 0 < similar.nearness(1.0) < 1


def test_postgresql_finds_them_without_pg_trgm_too(session, now):
    """Where the server refused the extension (migration 0006 goes on without it), the search runs without trigrams."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's pg_trgm")
    road = add(session, ROAD, now)
    again = add(session, ROAD_AGAIN, now, days_ago=3)
    add(session, LAND, now)
    assert similar.has_trigram(session)
    with_trigrams = similar.similar_cases(session, road, now=now)
    session.execute(text("DROP EXTENSION pg_trgm CASCADE"))  # inside the test's transaction: rolled back below
    try:
        assert not similar.has_trigram(session)
        assert similar.similar_cases(session, road, now=now) == with_trigrams
        assert ids(with_trigrams) == [again.tracking_id]
    finally:
        session.rollback()
