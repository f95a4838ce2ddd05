"""Similar complaints for the liaison's verification (step 3): which open or recent cases look like the same problem,
and the link between an archived duplicate and the case it repeats.

Who may ask: Admin Kominfo and Admin Pusat (:data:`READERS`), who open every case, confidential ones included, so
every case may be listed to them; the reporter's identity is never part of what is compared (``Case.search_text``
holds title, location and body only).

Which cases: every case other than the one asked about that is open (OPEN_STATUSES) or was closed within the last
:data:`RECENT_DAYS` days (90: a repeat of something closed a season ago is a new complaint, not a
duplicate). A candidate needs evidence beyond its category: a shared word or nearby coordinates.

The score (0..1) is computed the same way in Python on both backends, so both order alike:

- text (weight 0.55): 0.6 × the trigram similarity of the two titles' significant words (pg_trgm's measure:
  each word padded, lower-cased; shared trigrams over all trigrams, so "berlubang" and "lubang" still meet) plus
  0.4 × the cosine (Ochiai) overlap of the significant words of title, location and body;
- category (0.25): the same category;
- distance (0.20): both have coordinates; 1 within 200 m, falling linearly to 0 at 2 km (haversine). Where either
  has none, the other two weights are scaled up to make 1: an unknown place neither lifts nor lowers a case.

Significant words: lower-case letters and digits, three characters or more, not only digits, not an Indonesian stop
word (:data:`STOP_WORDS`). A candidate is listed when its text similarity reaches :data:`MIN_TEXT` or it lies within
2 km, and its score reaches :data:`MIN_SCORE`.

Finding the candidates is the backend's job. It looks for the case's title words (:func:`query_words`; the body's
words are common to many complaints and would match most cases, so only the exact score reads them) and for
nearby cases (a 2 km box), among the open or recently closed (indexes ix_case_status, ix_case_closed_at), and hands
the best :data:`CANDIDATES` by a rough rank (the box, the category, the title words a title holds) to the score:

- PostgreSQL: full-text search over ``to_tsvector('simple', search_text)`` (Indonesian has no PostgreSQL dictionary;
  'simple' only lower-cases) with the OR of the words, through the GIN expression index ``ix_case_search_fts``; with
  the ``pg_trgm`` extension also titles within pg_trgm's similarity threshold (``title % :title``, index
  ``ix_case_title_trgm``; their similarity joins the rough rank), which finds other affixes and spellings. One query
  per kind of evidence, so that each runs on its index. Without the extension (the server refused it) the search
  runs without the trigram part.
- SQLite: ``lower(search_text) LIKE '%word%'`` for each word (a substring, as trigrams would match it) or the box, in
  one query over the recent cases.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, literal, literal_column, or_, select, text, union_all
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from engine.cases import access
from engine.contract import OPEN_STATUSES, UNIT_ROLES, Actor
from engine.db.tables import Case
from engine.messages import N_

READERS = ("kominfo", "pusat")  # the liaison's desk: who verifies complaints at step 3
RECENT_DAYS = 90  # a case closed or submitted within this many days may still be the same problem
LIMIT = 10  # the most a list holds
CANDIDATES = 100  # rows each candidate query hands to the exact scoring, best rough rank first
QUERY_WORDS, MIN_QUERY_WORDS = 8, 4  # significant words of the case a candidate search uses (see query_words)
NEAR_KM, FAR_KM = 0.2, 2.0  # proximity: full within NEAR_KM, none beyond FAR_KM
MIN_TEXT, MIN_SCORE = 0.1, 0.15
WEIGHT_TEXT, WEIGHT_CATEGORY, WEIGHT_NEAR = 0.55, 0.25, 0.20
WEIGHT_TITLE = 0.6  # of the text similarity: the title against the rest (title, location and body)
EARTH_KM = 6371.0088
KM_PER_DEGREE = 111.32

# Common Indonesian function words and the words every complaint uses: they say nothing about the problem.
_STOP_TEXT = """
    yang dan di ke dari untuk tidak ada ini itu dengan saya kami kita kamu anda dia mereka pada oleh atau juga sudah
    belum akan sangat karena agar bisa dapat tersebut dalam para mohon tolong pak bapak ibu kepada sejak hingga sampai
    masih lagi sebagai adalah telah bahwa namun tetapi tapi jika kalau hal per setiap seperti sering selalu hanya saja
    harus perlu bagi antara terhadap tentang atas bawah sekitar tanpa serta maupun lebih kurang sama sudah pun kok
    nya lah kah dong sih hari minggu bulan tahun kemarin sekarang saat ketika waktu mana apa siapa kenapa mengapa
    bagaimana berapa terima kasih segera warga pihak laporan lapor melaporkan pengaduan keluhan mengeluhkan
    """
STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class Similar:
    """A case that looks like the one asked about. ``duplicate_of``: the tracking id the listed case was itself
    archived as a duplicate of (the case asked about, when it already repeats it), else None."""

    tracking_id: str
    title: str
    status: str
    category: str
    score: float
    duplicate_of: str | None = None

    def to_dict(self) -> dict[str, str | float | None]:
        """The API's item: ``{tracking_id, title, status, category, score, duplicate_of}``."""
        return {
            "tracking_id": self.tracking_id,
            "title": self.title,
            "status": self.status,
            "category": self.category,
            "score": self.score,
            "duplicate_of": self.duplicate_of,
        }


# ---- words and distances ---------------------------------------------------------------------


def words(value: str) -> list[str]:
    """The significant words of ``value`` in order (lower-case, accents dropped, no stop words, no bare numbers)."""
    folded = unicodedata.normalize("NFKD", value.lower()).encode("ascii", "ignore").decode()
    return [w for w in _WORD.findall(folded) if len(w) >= 3 and not w.isdigit() and w not in STOP_WORDS]


def trigrams(value: Iterable[str]) -> set[str]:
    """pg_trgm's trigrams of the words: each padded with two spaces before and one after."""
    grams: set[str] = set()
    for word in value:
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def jaccard(a: set[str], b: set[str]) -> float:
    """Shared over all (pg_trgm's similarity for trigram sets); 0 when both are empty."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def cosine(a: set[str], b: set[str]) -> float:
    """Ochiai: shared over the geometric mean of the sizes, so a long body does not drown a short one's match."""
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def nearness(km: float | None) -> float:
    """1 within NEAR_KM, 0 from FAR_KM on, linear between; 0 when either case has no coordinates."""
    if km is None or km >= FAR_KM:
        return 0.0
    return 1.0 if km <= NEAR_KM else (FAR_KM - km) / (FAR_KM - NEAR_KM)


@dataclass(frozen=True)
class _Profile:
    """What a case is compared by."""

    title_grams: set[str]
    words: set[str]
    category: str
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, title: str, search_text: str, category: str, latitude: float | None, longitude: float | None) -> _Profile:
        return cls(trigrams(words(title)), set(words(f"{title}\n{search_text}")), category, latitude, longitude)

    def score(self, other: _Profile) -> float | None:
        """The score of ``other`` against this case, or None when it is not similar enough to list."""
        text_sim = WEIGHT_TITLE * jaccard(self.title_grams, other.title_grams) + (1 - WEIGHT_TITLE) * cosine(self.words, other.words)
        km = None
        if None not in (self.latitude, self.longitude, other.latitude, other.longitude):
            km = distance_km(self.latitude, self.longitude, other.latitude, other.longitude)  # type: ignore[arg-type]
        near = nearness(km)
        if text_sim < MIN_TEXT and near == 0.0:
            return None
        score = WEIGHT_TEXT * text_sim + WEIGHT_CATEGORY * (self.category == other.category) + WEIGHT_NEAR * near
        if km is None:  # where either place is unknown, distance neither lifts nor lowers: the other weights make up 1
            score /= 1 - WEIGHT_NEAR
        return round(min(score, 1.0), 3) if score >= MIN_SCORE else None


def query_words(case: Case) -> list[str]:
    """The words a candidate search looks for: the title's significant words (up to QUERY_WORDS), padded with the
    longest words of the rest when the title has fewer than MIN_QUERY_WORDS. The title is what names the problem; the
    body's words are common to many complaints and would match most cases (the exact score still reads the body)."""
    title = list(dict.fromkeys(words(case.title)))[:QUERY_WORDS]
    if len(title) >= MIN_QUERY_WORDS:
        return title
    rest = sorted(set(words(case.search_text or "")) - set(title), key=lambda w: (-len(w), w))
    return title + rest[: MIN_QUERY_WORDS - len(title)]


# ---- candidates ------------------------------------------------------------------------------


def recent(now: datetime) -> ColumnElement[bool]:
    """The cases that may be listed at ``now``: open, or closed within RECENT_DAYS (a case submitted within them is
    one or the other: it closes after it is submitted). Two indexes answer it: ix_case_status, ix_case_closed_at."""
    return or_(Case.status.in_(OPEN_STATUSES), Case.closed_at >= now - timedelta(days=RECENT_DAYS))


def _eligible(case: Case, now: datetime) -> ColumnElement[bool]:
    return and_(Case.id != case.id, recent(now))


def _near_box(case: Case) -> tuple[ColumnElement[bool] | None, ColumnElement[float]]:
    """A box of FAR_KM around the case (its condition, or None without coordinates) and 1/0 for being inside it."""
    if case.latitude is None or case.longitude is None:
        return None, literal(0)
    dlat = FAR_KM / KM_PER_DEGREE
    dlon = FAR_KM / (KM_PER_DEGREE * max(math.cos(math.radians(case.latitude)), 0.01))
    inside = and_(
        Case.latitude.between(case.latitude - dlat, case.latitude + dlat),
        Case.longitude.between(case.longitude - dlon, case.longitude + dlon),
    )
    return inside, when((inside, 1), else_=0)


_COLUMNS = (
    Case.tracking_id,
    Case.title,
    Case.status,
    Case.category,
    Case.search_text,
    Case.latitude,
    Case.longitude,
    Case.duplicate_of,
    Case.submitted_at,
)


def _rough_rank(case: Case, terms: list[str], in_box: ColumnElement[float]) -> ColumnElement[float]:
    """What orders the candidates before the exact score, cheap on both backends: inside the box, the same category,
    and how many of the words the candidate's title holds (a title is short; the body is left to the exact score)."""
    rank: ColumnElement[float] = in_box + when((Case.category == case.category, 1), else_=0)
    title = func.lower(Case.title)
    for term in terms:
        rank = rank + when((title.contains(term, autoescape=True), 1), else_=0)
    return rank


def _candidates_postgresql(session: Session, case: Case, now: datetime, terms: list[str]) -> list[Select]:
    """One query per kind of evidence, each through its index and ``recent``'s (a BitmapAnd): OR-ed in one WHERE, the
    box (no index) or the trigram index's recheck would make PostgreSQL compute every recent case's tsvector."""
    box, in_box = _near_box(case)
    rank = _rough_rank(case, terms, in_box)
    evidence: list[ColumnElement[bool]] = [] if box is None else [box]
    if terms:  # through the GIN index ix_case_search_fts: the expression is written exactly as the index's
        document = func.to_tsvector(literal_column("'simple'"), Case.search_text)
        evidence.append(document.op("@@")(func.to_tsquery(literal_column("'simple'"), " | ".join(terms))))
        if has_trigram(session) and words(case.title):  # through ix_case_title_trgm: titles in other affixes and spellings
            title = " ".join(words(case.title))
            evidence.append(Case.title.op("%")(title))
            rank = rank + func.similarity(Case.title, title) * 2
    order = (rank.desc(), Case.submitted_at.desc())
    return [select(*_COLUMNS).where(_eligible(case, now), condition).order_by(*order).limit(CANDIDATES) for condition in evidence]


def _candidates_sqlite(case: Case, now: datetime, terms: list[str]) -> list[Select]:
    box, in_box = _near_box(case)
    lowered = func.lower(Case.search_text)
    matches = [lowered.contains(term, autoescape=True) for term in terms]  # significant words are [0-9a-z]: nothing to escape
    evidence = [*matches, *([] if box is None else [box])]
    if not evidence:
        return []
    rank = _rough_rank(case, terms, in_box)
    # the recent cases as a union of two index searches: SQLite's planner scans the whole table for the OR of recent()
    since = now - timedelta(days=RECENT_DAYS)
    recent_ids = union_all(select(Case.id).where(Case.status.in_(OPEN_STATUSES)), select(Case.id).where(Case.closed_at >= since))
    eligible = and_(Case.id != case.id, Case.id.in_(recent_ids))
    return [select(*_COLUMNS).where(eligible, or_(*evidence)).order_by(rank.desc(), Case.submitted_at.desc()).limit(CANDIDATES)]


def has_trigram(session: Session) -> bool:
    """Whether pg_trgm is installed in this database (the migration creates it where the server allows)."""
    return session.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')")) is True


# ---- the verbs -------------------------------------------------------------------------------


def similar_cases(session: Session, case: Case, *, now: datetime, limit: int = LIMIT) -> list[Similar]:
    """Up to ``limit`` (at most LIMIT) cases that look like ``case``, best first (see the module's docstring);
    never ``case`` itself. ``now`` fixes the recent window."""
    limit = max(0, min(limit, LIMIT))
    if limit == 0:
        return []
    terms = query_words(case)
    if session.get_bind().dialect.name == "postgresql":
        statements = _candidates_postgresql(session, case, now, terms)
    else:
        statements = _candidates_sqlite(case, now, terms)
    mine = _Profile.of(case.title, case.search_text or "", case.category, case.latitude, case.longitude)
    found: list[tuple[float, datetime, Similar]] = []
    rows = {row.tracking_id: row for statement in statements for row in session.execute(statement)}
    for row in rows.values():
        score = mine.score(_Profile.of(row.title, row.search_text or "", row.category, row.latitude, row.longitude))
        if score is not None:
            found.append((score, row.submitted_at, Similar(row.tracking_id, row.title, row.status, row.category, score, row.duplicate_of)))
    found.sort(key=lambda item: (-item[0], -item[1].timestamp(), item[2].tracking_id))  # ties: the newer first
    return [item[2] for item in found[:limit]]


def similar_for(session: Session, tracking_id: str, viewer: Actor, *, now: datetime, limit: int = LIMIT) -> list[Similar]:
    """The similar cases of the case ``tracking_id`` for the liaison's desk. Raises Forbidden for a role other than
    READERS (before looking), NotFound for an unknown case."""
    access.require(viewer, READERS, N_("Hanya Admin Kominfo atau Admin Pusat yang dapat melihat laporan serupa."))
    case = access.case_for_staff(session, tracking_id, viewer).case
    return similar_cases(session, case, now=now, limit=limit)


def duplicates_of(session: Session, tracking_id: str) -> list[str]:
    """The tracking ids of the cases archived as duplicates of ``tracking_id``, oldest first."""
    statement = select(Case.tracking_id).where(Case.duplicate_of == tracking_id).order_by(Case.submitted_at, Case.id)
    return list(session.scalars(statement))


def may_link(role: str) -> bool:
    """Whether a role opens every case, so that the links between duplicates lead somewhere for it: every staff role
    but a unit's (a unit opens only the cases it holds)."""
    return role not in UNIT_ROLES
