"""The 2025 two-level map: importing it from ``vietnam-provinces``, retiring stations, and
moving the Hà Nam 2024 network onto it (``loaxa stations migrate``) without losing schedules,
users or history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.directory import DirectoryError
from config.map2025 import Mapping, name_key, official, read_mapping
from config.settings import Settings
from scheduler import accounts, permissions, remap
from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.errors import Invalid
from scheduler.models import Broadcast, PlayLog, Program, Station, StationSuccession, User
from scheduler.station_timelines import station_timeline
from scheduler.stations import import_directory, retire
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

ON = date(2026, 5, 1)  # the day the network moves (a Friday)
AFTER = date(2026, 5, 4)  # a Monday on the new map
SETTINGS = Settings(instance_path=Path("instance"))  # save_broadcast reads no files


def _station(db: Session, code: str) -> Station:
    station = db.scalar(select(Station).where(Station.code == code))
    assert station is not None, code
    return station


def _count(db: Session, **where: Any) -> int:
    query = select(func.count(Station.id))
    for key, value in where.items():
        column = getattr(Station, key)
        query = query.where(column.is_(None) if value is None else column == value)
    return db.scalar(query) or 0


# --- The 2025 directories ------------------------------------------------------------------


def test_vn_2025_imports_34_provinces_and_3321_communes_marked_with_their_map(db: Session) -> None:
    report = import_directory(db, "vn-2025", FROZEN_NOW)
    db.commit()
    assert report.created == 3355
    levels = Counter(db.scalars(select(Station.level)))
    assert levels == {"province": 34, "commune": 3321}  # no district level
    assert _count(db, admin_map="2025") == 3355
    ninh_binh = _station(db, "37")
    assert ninh_binh.name == "Tỉnh Ninh Bình" and ninh_binh.station_name.endswith("Ninh Bình")
    assert db.scalar(select(func.count(Station.id)).where(Station.path.startswith("37/"))) == 130
    again = import_directory(db, "vn-2025", FROZEN_NOW)
    assert (again.created, again.updated) == (0, 0)  # re-importing is harmless


def test_one_province_of_the_2025_map(db: Session) -> None:
    report = import_directory(db, "vn-2025", FROZEN_NOW, province="37")
    assert (report.created, report.total) == (130, 130)
    names = set(db.scalars(select(Station.name).where(Station.level == "commune")))
    assert {"Phường Phủ Lý", "Phường Hà Nam", "Xã Gia Viễn"} <= names
    with pytest.raises(DirectoryError, match=r"no province '99'.*37"):
        import_directory(db, "vn-2025", FROZEN_NOW, province="99")


def test_the_2025_map_is_not_imported_over_a_live_2024_network(network: Session) -> None:
    with pytest.raises(Invalid, match="stations migrate"):
        import_directory(network, "vn-2025", FROZEN_NOW, province="37")
    network.rollback()
    assert _station(network, "13285").name == "Phường Quang Trung"


def test_names_match_wherever_the_tone_mark_sits() -> None:
    assert name_key("Xã Thuận Hoà") == name_key("xã  thuận hòa")
    assert name_key("Xã Thanh Thuỷ") == name_key("Xã Thanh Thủy")
    assert name_key("Xã Ea M’Droh") == name_key("Xã Ea M'Droh")
    assert name_key("Xã Chân Mây – Lăng Cô") == name_key("Xã Chân Mây - Lăng Cô")
    assert name_key("Xã Hòa An") != name_key("Xã Hóa An")


# --- Retiring -------------------------------------------------------------------------------


def _admin(db: Session) -> User:
    user = db.scalar(select(User).where(User.username == "admin"))
    return user or accounts.add_user(db, FROZEN_NOW, "admin", "mat-khau-dai-1", "admin", "35")


def _relay(db: Session, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "title": "Tiếp âm Thời sự tỉnh", "owner": "35", "kind": "relay",
        "stream_url": "http://127.0.0.1:8000/live/ha-nam.mp3",
        "start": "2026-04-21T05:30:00", "duration_s": 1800, "rrule": "FREQ=DAILY",
        "targets": ["35"], "force": True,
    }  # fmt: skip
    values.update(fields)
    return save_broadcast(db, SETTINGS, _admin(db), BroadcastSpec(**values), FROZEN_NOW)


def test_a_retired_station_takes_no_new_broadcast_and_stops_airing(network: Session) -> None:
    _relay(network, targets=["13291"])  # daily at 05:30 from 21/4
    station = _station(network, "13291")
    assert retire(network, station, ON, FROZEN_NOW, "cli")
    assert not retire(network, station, ON, FROZEN_NOW, "cli")  # twice: nothing to do
    network.commit()
    with pytest.raises(Invalid, match=r"targets: station 13291 .* retired on 2026-05-01"):
        _relay(network, title="Mới", targets=["13291"], start="2026-05-02T06:00:00")
    network.rollback()
    # what ends before the retirement is history and still allowed
    _relay(network, title="Tuần cũ", targets=["13291"], start="2026-04-22T07:00:00",
           until="2026-04-25")  # fmt: skip
    before = station_timeline(network, station, date(2026, 4, 24), date(2026, 4, 30), timedelta())
    after = station_timeline(network, station, ON, AFTER, timedelta())
    assert Counter(e.occurrence.payload.title for e in before) == {
        "Tiếp âm Thời sự tỉnh": 7, "Tuần cũ": 2}  # fmt: skip
    assert after == []  # it stops airing on the day it retires


# --- Moving Hà Nam onto the 2025 map -------------------------------------------------------


@pytest.fixture
def ha_nam(network: Session) -> Session:
    """The Hà Nam 2024 network with its users and a province relay and a Phủ Lý programme."""
    for username, role, code in [("bientap.phuly", "editor", "347"),
                                 ("vanhanh.chaucau", "operator", "13294")]:  # fmt: skip
        accounts.add_user(network, FROZEN_NOW, username, "mat-khau-dai-1", role, code)
    _station(network, "347").stream_url = "http://127.0.0.1:8000/live/phu-ly.mp3"
    _relay(network)
    _relay(network, title="Chương trình Phủ Lý", owner="347", kind="relay", source="347",
           stream_url=None, start="2026-04-21T17:00:00", duration_s=900,
           rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR", targets=["347"])  # fmt: skip
    network.add(Program(title="Bản tin Phủ Lý", owner=_station(network, "347"), status="ready",
                        duration_ms=60_000, created_at=FROZEN_NOW))  # fmt: skip
    network.add(PlayLog(
        id="chau-cau-1", station_id=_station(network, "13294").id, item="x", broadcast_id=None,
        scheduled_start=datetime(2026, 4, 21, 22, 30, tzinfo=UTC), status="played",
        received_at=FROZEN_NOW,
    ))  # fmt: skip
    network.commit()
    return network


def _airings(db: Session, station: Station, day: date) -> list[tuple[str, datetime]]:
    return sorted(
        (e.occurrence.payload.title, e.start)
        for e in station_timeline(db, station, day, day, timedelta())
    )


def _heir(db: Session, old_code: str) -> Station:
    link = db.scalar(
        select(StationSuccession).where(
            StationSuccession.former_code == old_code, StationSuccession.is_default
        )
    )
    assert link is not None, old_code
    return link.successor


def test_the_dry_run_lists_what_would_happen_and_changes_nothing(ha_nam: Session) -> None:
    plan = remap.plan(ha_nam, official(), ON)
    assert Counter(s.station.level for s in plan.steps) == {"commune": 98, "district": 6,
                                                           "province": 1}  # fmt: skip
    successors = {c for s in plan.steps if s.station.level == "commune" for c in s.successors}
    assert len(successors) == 33
    assert {official().units[c].province for c in successors} == {"37"}
    quang_trung = next(s for s in plan.steps if s.station.code == "13285")
    assert quang_trung.kind == "split" and quang_trung.needs_choice
    assert [official().units[c].name for c in quang_trung.successors] == [
        "Phường Hà Nam",
        "Phường Phủ Lý",
    ]  # the default first
    ha_nam.rollback()
    assert _count(ha_nam, retired_on=None) == 105 and _count(ha_nam, admin_map="2025") == 0


def test_hà_nam_moves_onto_the_2025_map_keeping_schedules_users_and_history(
    ha_nam: Session,
) -> None:
    communes = list(ha_nam.scalars(select(Station).where(Station.level == "commune")))
    before = {c.code: _airings(ha_nam, c, AFTER) for c in communes}
    assert before["13294"] == [
        ("Chương trình Phủ Lý", datetime(2026, 5, 4, 10, 0, tzinfo=UTC)),
        ("Tiếp âm Thời sự tỉnh", datetime(2026, 5, 3, 22, 30, tzinfo=UTC)),
    ]
    mapping = official()
    plan = remap.plan(ha_nam, mapping, ON)
    remap.apply(ha_nam, plan, mapping, FROZEN_NOW, "cli")
    ha_nam.commit()

    live = list(ha_nam.scalars(select(Station).where(Station.retired_on.is_(None))))
    assert Counter(s.level for s in live) == {"province": 1, "commune": 33}
    province = _station(ha_nam, "37")
    assert province.name == "Tỉnh Ninh Bình" and province.admin_map == "2025"
    communes_2025 = [s for s in live if s is not province]
    assert all(s.path.startswith("37/") and s.admin_map == "2025" for s in communes_2025)
    assert _station(ha_nam, "35").retired_on == ON and _station(ha_nam, "347").retired_on == ON
    # every 2024 commune's listeners hear the same airings at the same times from its heir;
    # a commune made of parts of two districts hears what each part heard, nothing invented
    heard: dict[int, set[tuple[str, datetime]]] = {}
    for code, airings in before.items():
        heir = _heir(ha_nam, code)
        after = set(_airings(ha_nam, heir, AFTER))
        assert set(airings) <= after, (code, heir.name)
        heard.setdefault(heir.id, set()).update(airings)
    for heir in communes_2025:
        assert set(_airings(ha_nam, heir, AFTER)) == heard[heir.id], heir.name
    # the retired stations stop; their history before the move stays as it was
    chau_cau = next(s for s in ha_nam.scalars(select(Station)) if s.name == "Phường Châu Cầu")
    assert _airings(ha_nam, chau_cau, AFTER) == []
    assert len(_airings(ha_nam, chau_cau, date(2026, 4, 22))) == 2
    # a merged commune's play logs are reachable from its successor
    phu_ly = _heir(ha_nam, "13294")
    assert phu_ly.name == "Phường Phủ Lý"
    before_links = remap.successions(ha_nam, phu_ly)["before"]
    assert "Phường Châu Cầu" in {link.former_name for link in before_links}
    logs = ha_nam.scalars(select(PlayLog).where(
        PlayLog.station_id.in_([link.predecessor_id for link in before_links])))  # fmt: skip
    assert [log.id for log in logs] == ["chau-cau-1"]
    # users keep working in their new scopes
    editor = ha_nam.scalar(select(User).where(User.username == "bientap.phuly"))
    operator = ha_nam.scalar(select(User).where(User.username == "vanhanh.chaucau"))
    assert editor is not None and editor.station.code == "37"
    assert operator is not None and operator.station is phu_ly
    assert permissions.in_scope(editor, phu_ly) and permissions.can_view(operator, phu_ly)
    # the district's own programme keeps its stream (listed for a decision), not the province's
    assert province.stream_url is None
    programme = ha_nam.scalar(select(Broadcast).where(Broadcast.title == "Chương trình Phủ Lý"))
    assert programme is not None and programme.owner is province
    assert programme.stream_url == "http://127.0.0.1:8000/live/phu-ly.mp3"
    # the district's library passes to the province that took its place
    library = ha_nam.scalar(select(Program).where(Program.title == "Bản tin Phủ Lý"))
    assert library is not None and library.owner is province
    # a second run does nothing and says so
    assert remap.plan(ha_nam, mapping, ON).empty


def test_an_interrupted_migration_moves_nothing(
    ha_nam: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = official()
    plan = remap.plan(ha_nam, mapping, ON)
    calls = 0
    real = remap._link

    def flaky(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 40:
            raise OSError("the server went down")
        real(*args)

    monkeypatch.setattr(remap, "_link", flaky)
    with pytest.raises(OSError):
        remap.apply(ha_nam, plan, mapping, FROZEN_NOW, "cli")
    ha_nam.rollback()
    assert _count(ha_nam, retired_on=None) == 105 and _count(ha_nam, admin_map="2025") == 0
    assert ha_nam.scalar(select(func.count(StationSuccession.id))) == 0
    assert _station(ha_nam, "13285").name == "Phường Quang Trung"


def test_a_mapping_file_naming_unknown_codes_is_refused(tmp_path: Path) -> None:
    bad_new = tmp_path / "quyet-dinh.csv"
    bad_new.write_text("old,new\n13285,99999\n", "utf-8")
    with pytest.raises(DirectoryError, match="99999 is not a unit of the 2025 map"):
        read_mapping(bad_new)
    bad_old = tmp_path / "quyet-dinh.json"
    bad_old.write_text('[{"old": "77777", "new": "13291"}]', "utf-8")
    with pytest.raises(DirectoryError, match="77777 is not a commune of the 2024 map"):
        read_mapping(bad_old)
    good = tmp_path / "mot-xa.csv"
    good.write_text("old,new,default\n13285,13291,1\n35,37,1\n", "utf-8")
    mapping = read_mapping(good)
    assert isinstance(mapping, Mapping)
    assert mapping.communes == {"13285": [("13291", True)]} and mapping.provinces == {"35": "37"}


def test_the_station_pages_tell_the_move_and_the_successor_lists_its_predecessors_plays(
    ha_nam: Session, app: Any
) -> None:
    from tests.panel_support import Panel

    mapping = official()
    remap.apply(ha_nam, remap.plan(ha_nam, mapping, ON), mapping, FROZEN_NOW, "cli")
    ha_nam.commit()
    phu_ly = _heir(ha_nam, "13294")
    panel = Panel(app, ha_nam)
    admin = panel.client("admin", "37")
    page = admin.get(f"/stations/{phu_ly.code}").get_data(as_text=True)
    assert "Phường Châu Cầu (13294)" in page and "Hợp thành từ" in page
    assert "tại Phường Châu Cầu" in page  # its predecessor's play log, reachable here
    assert "năm 2025" in page and "hoạt động từ 1/5/2026" in page
    # the whole-network admin of the old province still reads the retired station's page
    old_admin = panel.client("admin", "35")
    retired_page = old_admin.get("/stations/13294")
    html = retired_page.get_data(as_text=True)
    assert retired_page.status_code == 200
    assert "từ 1/5/2026: không còn phát, lịch sử vẫn giữ" in html
    assert f'href="/stations/{phu_ly.code}"' in html and "Phường Phủ Lý" in html
    # the schedule form offers the 2025 stations only
    editor = panel.client("editor", "37")
    form = editor.get("/schedule/new").get_data(as_text=True)
    assert "Phường Phủ Lý" in form and "Phường Châu Cầu" not in form


def test_the_api_tells_a_stations_map_and_lineage(ha_nam: Session, make_caller: Any) -> None:
    mapping = official()
    remap.apply(ha_nam, remap.plan(ha_nam, mapping, ON), mapping, FROZEN_NOW, "cli")
    ha_nam.commit()
    phu_ly = _heir(ha_nam, "13294")
    body = make_caller("admin", "37").get(f"/api/v1/stations/{phu_ly.code}").json
    assert body["map"] == "2025" and body["active_from"] == "2026-05-01"
    assert {"code": "13294", "former_code": "13294", "former_name": "Phường Châu Cầu",
            "effective": "2026-05-01"} in body["predecessors"]  # fmt: skip
    old = make_caller("admin", "35").get("/api/v1/stations/13294").json
    assert old["retired_on"] == "2026-05-01" and old["map"] == "2024"
    assert old["successors"] == [{"code": phu_ly.code, "name": "Phường Phủ Lý", "default": True,
                                  "effective": "2026-05-01"}]  # fmt: skip


def test_a_report_across_the_move_shows_old_communes_until_then_and_successors_after(
    ha_nam: Session,
) -> None:
    from scheduler.compliance import Filters, Period, compliance

    mapping = official()
    remap.apply(ha_nam, remap.plan(ha_nam, mapping, ON), mapping, FROZEN_NOW, "cli")
    ha_nam.commit()
    province = _station(ha_nam, "37")
    period = Period(date(2026, 4, 27), date(2026, 5, 10))
    now = datetime(2026, 5, 11, 12, 0, tzinfo=UTC)
    report = compliance(ha_nam, province, period, Filters(), now, timedelta(), timedelta(0),
                        settled=False)  # fmt: skip
    rows = {row.station.name: row for row in report.rows}
    move = datetime(2026, 4, 30, 17, 0, tzinfo=UTC)  # local midnight starting 1/5
    chau_cau = [o.planned.scheduled_start for o in report.outcomes["13294"]]
    phu_ly = _heir(ha_nam, "13294")
    successor = [o.planned.scheduled_start for o in report.outcomes[phu_ly.code]]
    assert chau_cau and max(chau_cau) < move  # the old commune until the move
    assert successor and min(successor) >= move  # its successor from then on
    assert rows["Phường Châu Cầu"].tally.planned == len(chau_cau)
    communes = [r for r in report.rows if r.station.level == "commune"]
    assert rows["Tỉnh Ninh Bình"].tally.planned == sum(r.tally.planned for r in communes)
    assert rows["Tỉnh Ninh Bình"].tally.missed == rows["Tỉnh Ninh Bình"].tally.planned  # no logs


def test_the_whole_2025_map_imports_after_the_move_without_touching_history(
    ha_nam: Session,
) -> None:
    mapping = official()
    remap.apply(ha_nam, remap.plan(ha_nam, mapping, ON), mapping, FROZEN_NOW, "cli")
    ha_nam.commit()
    retired = {s.id: (s.name, s.retired_on) for s in ha_nam.scalars(
        select(Station).where(Station.retired_on.is_not(None)))}  # fmt: skip
    import_directory(ha_nam, "vn-2025", FROZEN_NOW)
    ha_nam.commit()
    live = ha_nam.scalars(select(Station).where(Station.retired_on.is_(None))).all()
    assert len(live) == 3355 and all(s.admin_map == "2025" for s in live)
    for station in ha_nam.scalars(select(Station).where(Station.id.in_(retired))):
        assert (station.name, station.retired_on) == retired[station.id]


def test_thousands_of_schedule_revisions_bump_at_once(db: Session) -> None:
    """A move between maps bumps every station it touches (it failed past 1,000 on SQLite)."""
    from scheduler.stations import bump_revisions

    import_directory(db, "vn-2025", FROZEN_NOW)
    db.commit()
    communes = list(db.scalars(select(Station).where(Station.level == "commune")))
    bump_revisions(db, communes)
    db.commit()
    revisions = Counter(db.scalars(select(Station.schedule_revision)))
    assert revisions == {2: 3321, 1: 34}  # each commune once; the provinces untouched
