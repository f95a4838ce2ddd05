"""The SOP's paths as data, driven through plain SpiffWorkflow and through the case façade alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMPLAINT: dict[str, Any] = {
    "title": "Gedung SMA rusak",
    "body": "Atap ruang kelas SMA Negeri 1 bocor sejak dua bulan dan belum diperbaiki.",
    "category": "pendidikan",
    "incident_date": "2026-11-20",
    "location": "Surabaya",
    "anonymous": False,
    "confidential": False,
    "reporter": {"name": "Siti Aminah", "email": "siti@example.id", "phone": "081234567890"},
}


# The same broken road reported twice in other words (similar complaints: engine/cases/similar.py and its pages)
ROAD = {
    "title": "Jalan rusak berlubang di Jl. Raya Waru Sidoarjo",
    "location": "Jl. Raya Waru, Sidoarjo",
    "body": "Jalan di depan Pasar Waru rusak parah dan berlubang besar. Sudah banyak pengendara motor jatuh, mohon segera diaspal.",
    "category": "infrastruktur",
}
ROAD_AGAIN = {
    "title": "Aspal berlubang parah depan Pasar Waru",
    "location": "Waru, Sidoarjo",
    "body": "Lubang besar di jalan raya depan pasar Waru membahayakan pengendara, kemarin ada pemotor jatuh. Tolong diperbaiki.",
    "category": "infrastruktur",
}


@dataclass(frozen=True)
class Do:
    """Complete the open task with this BPMN id (of ``unit``, when several units hold one), with ``data`` as its form."""

    task: str
    data: dict[str, Any]
    unit: str | None = None


@dataclass(frozen=True)
class Wait:
    """Move the clock and fire due timers."""

    days: float = 0
    hours: float = 0


@dataclass(frozen=True)
class Expect:
    status: str
    open_tasks: tuple[str, ...]


@dataclass(frozen=True)
class AskExtension:
    """The unit holding ``task`` asks Admin Kominfo for ``working_days`` more working days."""

    task: str
    working_days: int
    unit: str | None = None
    reason: str = "Perbaikan atap menunggu pengadaan bahan dari penyedia."


@dataclass(frozen=True)
class Escalated:
    """The escalations raised so far, as (stage, clock), in order."""

    escalations: tuple[tuple[str, str], ...]


ASK_REPORTER = Do("Task_Disposisi", {"decision": "minta_kelengkapan", "question": "Mohon sebutkan alamat lengkap sekolah tersebut."})
FORWARD_SATKER = Do("Task_Disposisi", {"unit": "dinas-pendidikan", "note": "Mohon ditindaklanjuti."})
ACCEPT_SATKER = Do("Task_Terima_Satker", {"decision": "terima"})
ANSWER_SATKER = Do("Task_Tanggapan_Satker", {"response": "Perbaikan atap dijadwalkan minggu depan."})
PUBLISH = Do("Task_Teruskan", {"decision": "teruskan", "answer": "Perbaikan atap dijadwalkan minggu depan oleh Dinas Pendidikan."})
SATISFIED = Do("Task_Balasan", {"satisfied": True, "text": "Terima kasih."})

SCENARIOS: dict[str, tuple[dict[str, Any], list[Any]]] = {
    "satuan_kerja_route": (
        COMPLAINT,
        [
            Expect("diterima", ("Task_Disposisi",)),
            FORWARD_SATKER,
            Expect("didisposisikan", ("Task_Terima_Satker",)),
            ACCEPT_SATKER,
            Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
            ANSWER_SATKER,
            Expect("ditindaklanjuti", ("Task_Teruskan",)),
            PUBLISH,
            Expect("dijawab", ("Task_Balasan",)),
            SATISFIED,
            Expect("selesai", ()),
        ],
    ),
    "instansi_vertikal_route": (
        {**COMPLAINT, "category": "pertanahan", "anonymous": True, "confidential": True},
        [
            Do("Task_Disposisi", {"unit": "kanwil-bpn-jatim"}),
            Expect("didisposisikan", ("Task_Terima_Vertikal",)),
            Do("Task_Terima_Vertikal", {"decision": "terima"}),
            Expect("ditindaklanjuti", ("Task_Tanggapan_Vertikal",)),
            Do("Task_Tanggapan_Vertikal", {"response": "Sertifikat dapat diambil di loket 3."}),
            Expect("ditindaklanjuti", ("Task_Teruskan",)),
            Do("Task_Teruskan", {"decision": "teruskan", "answer": "Sertifikat Anda dapat diambil di loket 3 Kanwil BPN."}),
            Expect("dijawab", ("Task_Balasan",)),
            SATISFIED,
            Expect("selesai", ()),
        ],
    ),
    "bukan_wewenang_loop": (
        {**COMPLAINT, "category": "pertanahan"},
        [
            Do("Task_Disposisi", {"unit": "kanwil-bpn-jatim"}),
            Do("Task_Terima_Vertikal", {"decision": "bukan_wewenang", "note": "Ini urusan Kemenag."}),
            Expect("diterima", ("Task_Disposisi",)),
            Do("Task_Disposisi", {"unit": "kanwil-kemenag-jatim"}),
            Expect("didisposisikan", ("Task_Terima_Vertikal",)),
            Do("Task_Terima_Vertikal", {"decision": "terima"}),
            Do("Task_Tanggapan_Vertikal", {"response": "Sudah kami tindak lanjuti."}),
            Do("Task_Teruskan", {"decision": "teruskan", "answer": "Kanwil Kemenag sudah menindaklanjuti laporan Anda."}),
            SATISFIED,
            Expect("selesai", ()),
        ],
    ),
    "kembalikan_loop": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            Do("Task_Teruskan", {"decision": "kembalikan", "note": "Mohon sebutkan tanggal perbaikan."}),
            Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
            Do("Task_Tanggapan_Satker", {"response": "Perbaikan atap dimulai 7 Desember 2026."}),
            Expect("ditindaklanjuti", ("Task_Teruskan",)),
            PUBLISH,
            SATISFIED,
            Expect("selesai", ()),
        ],
    ),
    "not_satisfied_loop": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Do("Task_Balasan", {"satisfied": False, "text": "Atap masih bocor."}),
            Expect("diterima", ("Task_Disposisi",)),
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            SATISFIED,
            Expect("selesai", ()),
        ],
    ),
    # Satisfied but rating the answer 2: a rating of 2 or less reopens the case as "not satisfied" does.
    "low_rating_loop": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Do("Task_Balasan", {"satisfied": True, "rating": 2, "text": "Jawabannya kurang jelas."}),
            Expect("diterima", ("Task_Disposisi",)),
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Do("Task_Balasan", {"satisfied": True, "rating": 5}),
            Expect("selesai", ()),
        ],
    ),
    "rating_1_reopens": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Do("Task_Balasan", {"satisfied": True, "rating": 1, "text": "Atap masih bocor."}),
            Expect("diterima", ("Task_Disposisi",)),
        ],
    ),
    "rating_5_closes": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Do("Task_Balasan", {"satisfied": True, "rating": 5, "text": "Terima kasih, sudah diperbaiki."}),
            Expect("selesai", ()),
        ],
    ),
    # Monday 09:00: the 1-working-day targets end Tuesday 23:59:59, the 3-day ceiling Thursday.
    "disposisi_deadlines": (
        COMPLAINT,
        [
            Wait(days=1, hours=14),
            Expect("diterima", ("Task_Disposisi",)),
            Wait(days=1),
            Expect("diterima", ("Task_Disposisi",)),
            Wait(days=2),
            Expect("diterima", ("Task_Disposisi",)),
            FORWARD_SATKER,
            Expect("didisposisikan", ("Task_Terima_Satker",)),
        ],
    ),
    "unit_deadlines": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            Wait(days=2),
            ACCEPT_SATKER,
            Wait(days=8),
            Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
            ANSWER_SATKER,
            Expect("ditindaklanjuti", ("Task_Teruskan",)),
            Wait(days=2),  # Admin Kominfo's review has its own 1-working-day target
            PUBLISH,
            Expect("dijawab", ("Task_Balasan",)),
        ],
    ),
    "auto_close": (
        COMPLAINT,
        [
            FORWARD_SATKER,
            ACCEPT_SATKER,
            ANSWER_SATKER,
            PUBLISH,
            Wait(days=13),
            Expect("dijawab", ("Task_Balasan",)),
            Wait(days=2),
            Expect("selesai", ()),
        ],
    ),
}

# Step 3's verification (issue 18): asking the reporter for more, archiving, several units at once.
ADDITION = Do("Task_Kelengkapan", {"text": "Sekolahnya SMA Negeri 1 Surabaya, Jalan Wijaya Kusuma 48."})
TWO_UNITS = Do("Task_Disposisi", {"units": ["dinas-pendidikan", "kanwil-bpn-jatim"], "classification": "pengaduan"})
THREE_UNITS = Do("Task_Disposisi", {"units": ["dinas-pendidikan", "dinas-kesehatan", "kanwil-bpn-jatim"]})


def archive(reason: str) -> Do:
    return Do("Task_Disposisi", {"decision": "arsipkan", "archive_reason": reason, "note": "Diarsipkan setelah verifikasi."})


SCENARIOS.update(
    {
        "kelengkapan_answered": (
            COMPLAINT,
            [
                ASK_REPORTER,
                Expect("menunggu_kelengkapan", ("Task_Kelengkapan",)),
                Wait(days=3),
                ADDITION,
                Expect("diterima", ("Task_Disposisi",)),
                FORWARD_SATKER,
                Expect("didisposisikan", ("Task_Terima_Satker",)),
            ],
        ),
        # Monday 30 November: the 10 working days end Monday 14 December, 23:59:59
        "kelengkapan_timed_out": (
            COMPLAINT,
            [ASK_REPORTER, Wait(days=13), Expect("menunggu_kelengkapan", ("Task_Kelengkapan",)), Wait(days=2), Expect("diarsipkan", ())],
        ),
        **{
            f"archived_{reason}": (COMPLAINT, [archive(reason), Expect("diarsipkan", ())])
            for reason in ("bukan_pengaduan", "di_luar_kewenangan", "tidak_lengkap")
        },
        "two_units_one_declines": (
            COMPLAINT,
            [
                TWO_UNITS,
                Expect("didisposisikan", ("Task_Terima_Satker", "Task_Terima_Vertikal")),
                Do("Task_Terima_Vertikal", {"decision": "bukan_wewenang", "note": "Bukan urusan pertanahan."}, "kanwil-bpn-jatim"),
                Expect("didisposisikan", ("Task_Terima_Satker",)),
                ACCEPT_SATKER,
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
                ANSWER_SATKER,
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
                PUBLISH,
                SATISFIED,
                Expect("selesai", ()),
            ],
        ),
        "three_units_one_declines_and_a_revision": (
            COMPLAINT,
            [
                THREE_UNITS,
                Expect("didisposisikan", ("Task_Terima_Satker", "Task_Terima_Satker", "Task_Terima_Vertikal")),
                Do("Task_Terima_Satker", {"decision": "terima"}, "dinas-pendidikan"),
                Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan urusan kesehatan."}, "dinas-kesehatan"),
                Do("Task_Terima_Vertikal", {"decision": "terima"}, "kanwil-bpn-jatim"),
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker", "Task_Tanggapan_Vertikal")),
                Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki minggu depan."}, "dinas-pendidikan"),
                Expect("ditindaklanjuti", ("Task_Tanggapan_Vertikal",)),
                Do("Task_Tanggapan_Vertikal", {"response": "Status tanah sekolah sudah jelas."}, "kanwil-bpn-jatim"),
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
                Do("Task_Teruskan", {"decision": "kembalikan", "note": "Mohon sebutkan tanggalnya."}),
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker", "Task_Tanggapan_Vertikal")),
                Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki 7 Desember 2026."}, "dinas-pendidikan"),
                Do("Task_Tanggapan_Vertikal", {"response": "Sertifikat terbit 8 Desember 2026."}, "kanwil-bpn-jatim"),
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
                PUBLISH,
                Expect("dijawab", ("Task_Balasan",)),
            ],
        ),
        "every_unit_declines": (
            COMPLAINT,
            [
                TWO_UNITS,
                Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan urusan kami."}, "dinas-pendidikan"),
                Expect("didisposisikan", ("Task_Terima_Vertikal",)),
                Do("Task_Terima_Vertikal", {"decision": "bukan_wewenang", "note": "Bukan urusan kami."}, "kanwil-bpn-jatim"),
                Expect("diterima", ("Task_Disposisi",)),
                FORWARD_SATKER,
                Expect("didisposisikan", ("Task_Terima_Satker",)),
            ],
        ),
    }
)

# Following a complaint through (issue 19): joint answers, deadline extensions, interim answers. The clock starts on
# Monday 30 November 09:00: the unit's 1-working-day target ends Tuesday 1 December 23:59:59, its 5-day ceiling Monday 7.
BOTH_ACCEPTED = [  # forwarded to two units, and each accepts
    TWO_UNITS,
    Do("Task_Terima_Satker", {"decision": "terima"}, "dinas-pendidikan"),
    Do("Task_Terima_Vertikal", {"decision": "terima"}, "kanwil-bpn-jatim"),
]
ANSWER_VERTIKAL = Do("Task_Tanggapan_Vertikal", {"response": "Status tanah sekolah sudah jelas."}, "kanwil-bpn-jatim")
INTERIM_SATKER = Do("Task_Tanggapan_Satker", {"response": "Kontraktor sudah meninjau atap; perbaikan butuh dua minggu.", "interim": True})
SCENARIOS.update(
    {
        "two_units_one_returned": (
            COMPLAINT,
            [
                *BOTH_ACCEPTED,
                Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki minggu depan."}, "dinas-pendidikan"),
                ANSWER_VERTIKAL,
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
                Do("Task_Teruskan", {"decision": "kembalikan", "units": ["dinas-pendidikan"], "note": "Mohon sebutkan tanggalnya."}),
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
                Do("Task_Tanggapan_Satker", {"response": "Atap diperbaiki 7 Desember 2026."}, "dinas-pendidikan"),
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
                Do("Task_Teruskan", {"decision": "teruskan", "answer": "Atap diperbaiki 7 Desember 2026; status tanah sudah jelas."}),
                Expect("dijawab", ("Task_Balasan",)),
            ],
        ),
        "extension_granted": (
            COMPLAINT,
            [
                FORWARD_SATKER,
                ACCEPT_SATKER,
                AskExtension("Task_Tanggapan_Satker", 2),
                Expect("ditindaklanjuti", ("Task_Perpanjangan", "Task_Tanggapan_Satker")),
                Do("Task_Perpanjangan", {"decision": "setuju", "working_days": 2, "note": "Disetujui."}),
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
                Wait(days=2),  # Wednesday 09:00: past the SOP target, not past the moved one (Thursday)
                Escalated(()),
                Wait(days=2),  # Friday 09:00
                Escalated((("tanggapan", "target"),)),
                ANSWER_SATKER,
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
            ],
        ),
        "extension_refused": (
            COMPLAINT,
            [
                FORWARD_SATKER,
                ACCEPT_SATKER,
                AskExtension("Task_Tanggapan_Satker", 3),
                Do("Task_Perpanjangan", {"decision": "tolak", "note": "Mohon jawab sesuai batas SOP."}),
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
                Wait(days=2),  # Wednesday: the SOP target (Tuesday) stands
                Escalated((("tanggapan", "target"),)),
                ANSWER_SATKER,
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
            ],
        ),
        # asked once the target had passed and escalated: the same timer waits again, and escalates again
        "extension_after_the_deadline": (
            COMPLAINT,
            [
                FORWARD_SATKER,
                ACCEPT_SATKER,
                Wait(days=2),
                Escalated((("tanggapan", "target"),)),
                AskExtension("Task_Tanggapan_Satker", 2),
                Do("Task_Perpanjangan", {"decision": "setuju"}),  # as many days as asked: Tuesday + 2 = Thursday
                Wait(days=1),
                Escalated((("tanggapan", "target"),)),
                Wait(days=1),
                Escalated((("tanggapan", "target"), ("tanggapan", "target"))),
            ],
        ),
        # the unit answered before Admin Kominfo decided: the request lapses
        "extension_lapses": (
            COMPLAINT,
            [
                FORWARD_SATKER,
                ACCEPT_SATKER,
                AskExtension("Task_Tanggapan_Satker", 2),
                ANSWER_SATKER,
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
            ],
        ),
        "interim_then_final": (
            COMPLAINT,
            [
                FORWARD_SATKER,
                ACCEPT_SATKER,
                INTERIM_SATKER,
                Expect("ditindaklanjuti", ("Task_Tanggapan_Satker",)),
                ANSWER_SATKER,
                Expect("ditindaklanjuti", ("Task_Teruskan",)),
                PUBLISH,
                Expect("dijawab", ("Task_Balasan",)),
            ],
        ),
    }
)

# The escalations each scenario must raise, as (stage, clock), in order.
ESCALATIONS = {
    "disposisi_deadlines": [("disposisi", "target"), ("disposisi", "plafon")],
    "unit_deadlines": [("terima", "target"), ("tanggapan", "target"), ("tanggapan", "plafon"), ("teruskan", "target")],
    "extension_granted": [("tanggapan", "target")],
    "extension_refused": [("tanggapan", "target")],
    "extension_after_the_deadline": [("tanggapan", "target"), ("tanggapan", "target")],
}
