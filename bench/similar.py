"""Issue 18: how long finding similar complaints (engine/cases/similar.py) takes at 1,000 and 100,000 cases.

Cases are bulk-inserted as rows (no workflow is run: the search reads only the case table), with generated Indonesian
complaints per category (a subject, a problem, a place, filler sentences), 60 % with coordinates near their town,
submitted over the past three years; those of the last 45 days are mostly open, older ones mostly closed some days to
weeks after submission. Then ``similar_cases`` is timed for ``--queries`` recent cases (median and p95), and the
average number of cases found is noted. SQLite in a temporary file and PostgreSQL in a throwaway database on
``--pg-url`` (default ``LAPOR_TEST_PG_URL`` or the local server), both removed at the end. The figures go to
bench/results/similar.txt.

    .venv/bin/python bench/similar.py [--backends sqlite postgresql] [--sizes 1000 100000] [--queries 60] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import bench.common as common  # noqa: E402
from bench.common import database, median, percentile, pg_unavailable, table  # noqa: E402
from engine.cases import similar  # noqa: E402
from engine.cases.service import search_text  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.schema import create_schema  # noqa: E402
from engine.db.tables import Case, Definition  # noqa: E402

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
RESULTS = Path(__file__).resolve().parent / "results" / "similar.txt"
CHUNK = 5000
OPEN_MIX = ["diterima", "didisposisikan", "ditindaklanjuti", "dijawab"]
CLOSED_MIX = ["selesai"] * 8 + ["diarsipkan", "dicabut"]
TOWNS = {  # town: (latitude, longitude)
    "Surabaya": (-7.2575, 112.7521),
    "Sidoarjo": (-7.4478, 112.7183),
    "Malang": (-7.9666, 112.6326),
    "Gresik": (-7.1566, 112.6555),
    "Kediri": (-7.8480, 112.0178),
    "Jember": (-8.1845, 113.6681),
    "Banyuwangi": (-8.2191, 114.3691),
    "Madiun": (-7.6298, 111.5239),
    "Blitar": (-8.0955, 112.1609),
    "Tuban": (-6.8976, 112.0649),
    "Mojokerto": (-7.4726, 112.4381),
    "Pasuruan": (-7.6453, 112.9075),
}
TOPICS = {
    "infrastruktur": (
        ["jalan", "jembatan", "lampu penerangan jalan", "saluran air", "trotoar", "drainase", "aspal", "gorong-gorong"],
        ["rusak parah", "berlubang", "ambles", "mati total", "tersumbat sampah", "retak", "banjir saat hujan", "belum diperbaiki"],
    ),
    "pendidikan": (
        ["sekolah", "SMA negeri", "SMK", "guru honorer", "PPDB zonasi", "seragam sekolah", "uang gedung", "beasiswa", "ijazah"],
        ["pungutan liar", "tidak transparan", "ditahan sekolah", "biaya terlalu mahal", "kuota tidak adil", "belum cair", "dipaksa membeli"],
    ),
    "kesehatan": (
        ["puskesmas", "RSUD", "BPJS", "ambulans", "obat", "dokter jaga", "antrean poli", "vaksinasi"],
        ["pelayanan lambat", "antrean terlalu lama", "ditolak", "tidak tersedia", "petugas kasar", "kosong", "tidak datang"],
    ),
    "pertanahan": (
        ["sertifikat tanah", "BPN", "pengukuran tanah", "balik nama", "tanah warisan", "PTSL", "batas tanah"],
        ["belum terbit", "berkas hilang", "biaya tidak resmi", "sengketa", "proses berlarut", "tumpang tindih", "ditolak tanpa alasan"],
    ),
    "keagamaan": (
        ["KUA", "nikah", "madrasah", "haji", "masjid", "sertifikat halal", "pesantren"],
        ["biaya tambahan", "jadwal mundur", "bantuan belum cair", "pelayanan lambat", "izin sulit", "antrean lama"],
    ),
    "lainnya": (
        ["pasar", "sampah", "parkir liar", "pedagang kaki lima", "kebisingan", "pungli", "angkutan umum", "air PDAM"],
        ["mengganggu warga", "tidak ditertibkan", "menumpuk", "berbau", "tarif naik", "tidak mengalir", "dibiarkan"],
    ),
}
FILLERS = [
    "Kondisi ini sudah berlangsung berminggu-minggu.",
    "Warga sekitar sudah mengeluh ke kelurahan tetapi belum ada tanggapan.",
    "Mohon pemerintah provinsi segera turun tangan.",
    "Kami berharap ada tindak lanjut yang jelas.",
    "Banyak orang tua dan lansia yang dirugikan.",
    "Sudah pernah dilaporkan ke dinas terkait namun belum ada hasil.",
    "Foto kondisi terlampir.",
    "Kejadian ini terjadi hampir setiap hari.",
]
STREETS = ["Jl. Diponegoro", "Jl. Ahmad Yani", "Jl. Raya", "Jl. Pahlawan", "Jl. Veteran", "Jl. Merdeka", "Jl. Sudirman", "Jl. Gajah Mada"]


def complaint(rng: random.Random) -> tuple[dict, str, tuple[float, float] | None]:
    """A generated complaint (title, location, body, category), its town and maybe its coordinates."""
    category = rng.choice(list(TOPICS))
    subjects, problems = TOPICS[category]
    subject, problem, town = rng.choice(subjects), rng.choice(problems), rng.choice(list(TOWNS))
    street = f"{rng.choice(STREETS)} {town}"
    title = f"{subject.capitalize()} {problem} di {street}"[:150]
    body = " ".join([f"{subject.capitalize()} di {street} {problem}.", *rng.sample(FILLERS, 3), f"Lokasi dekat {rng.choice(subjects)} {town}."])
    point = None
    if rng.random() < 0.6:
        lat, lon = TOWNS[town]
        point = (lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05))
    return {"title": title, "location": street, "body": body, "category": category}, town, point


def populate(engine, size: int) -> list[int]:
    """Insert ``size`` cases; return the ids of the recent open ones (the queries' cases)."""
    rng = random.Random(size)
    with Session(engine) as session:
        definition = Definition(number=1, content_hash="0" * 64, bundle="{}", deployed_at=NOW, deployed_by="bench")
        session.add(definition)
        session.commit()
        definition_id = definition.id
    recent: list[int] = []
    for start in range(1, size + 1, CHUNK):
        rows = []
        for number in range(start, min(start + CHUNK, size + 1)):
            data, _town, point = complaint(rng)
            submitted = NOW - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            age_days = (NOW - submitted).days
            open_ = rng.random() < (0.85 if age_days < 45 else 0.02)
            closed_at = None if open_ else min(NOW, submitted + timedelta(days=rng.uniform(1, 40)))
            status = rng.choice(OPEN_MIX) if open_ else rng.choice(CLOSED_MIX)
            rows.append(
                {
                    "id": number,
                    "tracking_id": f"LPR-{number:08d}",
                    "access_token_hash": f"{number:064x}",
                    "definition_id": definition_id,
                    "status": status,
                    "title": data["title"],
                    "category": data["category"],
                    "anonymous": False,
                    "confidential": rng.random() < 0.05,
                    "channel": "web",
                    "latitude": point[0] if point else None,
                    "longitude": point[1] if point else None,
                    "search_text": search_text(data),
                    "submitted_at": submitted,
                    "updated_at": closed_at or submitted,
                    "closed_at": closed_at,
                    "late": False,
                    "breached": [],
                    "state": "",
                    "version": 1,
                }
            )
            if open_ and age_days < 30:
                recent.append(number)
        with engine.begin() as connection:
            connection.execute(insert(Case.__table__), rows)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), :v)"), {"v": size + 1})
        connection.execute(text("ANALYZE"))
    return recent


def measure(backend: str, size: int, queries: int) -> dict[str, float]:
    with database(backend) as url:
        engine = make_engine(url)
        try:
            create_schema(engine)
            started = time.perf_counter()
            recent = populate(engine, size)
            print(f"{backend} {size:,} cases populated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            rng = random.Random(7)
            chosen = rng.sample(recent, min(queries, len(recent)))
            times, found = [], []
            with Session(engine) as session:
                similar.similar_cases(session, session.get(Case, chosen[0]), now=NOW)  # warm-up
                for case_id in chosen:
                    case = session.get(Case, case_id)
                    began = time.perf_counter()
                    result = similar.similar_cases(session, case, now=NOW)
                    times.append(time.perf_counter() - began)
                    found.append(len(result))
                trigram = engine.dialect.name == "postgresql" and similar.has_trigram(session)
                eligible = session.scalar(select(func.count()).select_from(Case).where(similar.recent(NOW)))
        finally:
            engine.dispose()
    return {
        "median": median(times) * 1000,
        "p95": percentile(times, 0.95) * 1000,
        "found": sum(found) / len(found),
        "queries": len(times),
        "eligible": eligible or 0,
        "trigram": trigram,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--pg-url", default=common.PG_SERVER_URL, help="a PostgreSQL server URL whose user may create databases")
    args = parser.parse_args()
    common.PG_SERVER_URL = args.pg_url
    backends = list(args.backends)
    if "postgresql" in backends and (reason := pg_unavailable()):
        print(f"PostgreSQL unavailable, measuring SQLite only: {reason}", file=sys.stderr)
        backends.remove("postgresql")
    rows = []
    for backend in backends:
        for size in args.sizes:
            result = measure(backend, size, args.queries)
            name = backend + (" (pg_trgm)" if result["trigram"] else " (no pg_trgm)" if backend == "postgresql" else "")
            rows.append(
                (
                    name,
                    f"{size:,}",
                    f"{result['eligible']:,}",
                    f"{result['median']:.1f}",
                    f"{result['p95']:.1f}",
                    f"{result['found']:.1f}",
                )
            )
    report = (
        f"similar_cases: milliseconds per query over {args.queries} recent open cases (one warm-up first); "
        f"eligible = open or closed within {similar.RECENT_DAYS} days; found = cases listed on average (at most {similar.LIMIT})\n"
        + table(("backend", "cases", "eligible", "median ms", "p95 ms", "found"), rows)
        + "\n"
    )
    print("\n" + report)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(f"# bench/similar.py, run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}\n" + report, encoding="utf-8")


if __name__ == "__main__":
    main()
