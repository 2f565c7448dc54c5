"""The ``loaxa`` command line (docs/api.md "Command line") against a temporary instance.

Each test gets its own instance folder and SQLite file. ``init --demo`` runs for real once per
module (with the clock frozen, so the demo schedule starts on Monday 2026-04-20) and the
resulting database is copied for the tests that need a populated instance.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import accounts
from scheduler.db import make_engine
from scheduler.models import Broadcast, Campaign, Segment, Station, User
from web import create_app
from web.cli import main

pytestmark = [pytest.mark.usefixtures("fast_passwords", "frozen"), pytest.mark.slow]

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
DEMO_USERS = ("admin", "bientap.phuly", "duyet.phuly", "vanhanh.quangtrung")


@dataclass
class Instance:
    path: Path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.path / 'loaxa.db'}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "LOAXA_INSTANCE": str(self.path),
            "LOAXA_DATABASE_URL": self.database_url,
            "LOAXA_TIMEZONE": "Asia/Ho_Chi_Minh",
        }

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return CliRunner().invoke(main, list(args), env={**self.env, **(env or {})}, input=input)

    def query(self, fn: Any) -> Any:
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                return fn(session)
        finally:
            engine.dispose()

    def count(self, model: Any) -> int:
        return self.query(lambda s: s.scalar(select(func.count()).select_from(model)))


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result.output


def fails(result: Result) -> str:
    """A failed command: exit status 1 and one readable line, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    return Instance(tmp_path / "instance")


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """An instance after ``loaxa init --demo`` (run once), and what the command printed."""
    from argon2 import PasswordHasher

    template = Instance(tmp_path_factory.mktemp("demo") / "instance")
    with (
        time_machine.travel(NOW, tick=False),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(
            accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        output = ok(template.run("init", "--demo"))
    yield template.path, output


@pytest.fixture
def demo(demo_template: tuple[Path, str], tmp_path: Path) -> Instance:
    source, _output = demo_template
    target = tmp_path / "instance"
    shutil.copytree(source, target)
    return Instance(target)


# --- loaxa init -----------------------------------------------------------------------------


def test_init_demo_creates_the_ha_nam_network_and_prints_demo_accounts(demo_template):
    path, output = demo_template
    template = Instance(path)
    assert "Stations: 105" in output
    assert "loaxa-demo" in output  # the demo password
    for username in DEMO_USERS:
        assert username in output
    assert template.count(Station) == 105
    assert template.count(User) == len(DEMO_USERS)
    # Five relays, and a programme of three bulletins spoken by the offline voice.
    assert template.count(Broadcast) == 6
    assert template.count(Segment) == 3
    assert "Sample bulletins spoken by the offline voice: 3" in output
    assert template.count(Campaign) >= 1
    roles = template.query(lambda s: dict(s.execute(select(User.username, User.role)).all()))
    assert roles["admin"] == "admin"
    assert roles["vanhanh.quangtrung"] == "operator"


def test_init_twice_is_harmless(demo):
    before = {m.__name__: demo.count(m) for m in (Station, User, Broadcast, Campaign)}
    output = ok(demo.run("init", "--demo"))
    assert "Stations: 105" in output
    after = {m.__name__: demo.count(m) for m in (Station, User, Broadcast, Campaign)}
    assert after == before
    ok(demo.run("init"))
    assert demo.count(Station) == 105


def test_init_without_demo_creates_an_empty_network(instance):
    output = ok(instance.run("init"))
    assert "Database ready" in output
    assert (instance.path / "loaxa.db").exists()
    assert instance.count(Station) == 0
    assert instance.count(User) == 0
    assert instance.count(Campaign) >= 1  # every installation starts with the campaigns


def test_bad_configuration_is_one_line_naming_the_variable(instance):
    result = instance.run("init", env={"LOAXA_TIMEZONE": "Sao/Hoa"})
    line = fails(result)
    assert "timezone" in line
    assert "LOAXA_TIMEZONE" in line


# --- loaxa stations import ------------------------------------------------------------------


def test_reimporting_the_bundled_tree_adds_nothing(demo):
    output = ok(demo.run("stations", "import", "ha-nam-2024"))
    assert "105 stations: 0 new, 0 updated" in output
    assert demo.count(Station) == 105


def test_importing_the_bundled_tree_into_an_empty_instance(instance):
    ok(instance.run("init"))
    assert "105 stations: 105 new" in ok(instance.run("stations", "import", "ha-nam-2024"))


TWO_LEVEL_2025 = """\
- name: Tỉnh Ninh Bình
  code: 37
  division_type: tỉnh
  wards:
    - name: Phường Phủ Lý
      code: 13285
      division_type: phường
    - name: Xã Nhân Hà
      code: 13612
      division_type: xã
"""


def test_importing_a_two_level_2025_yaml_tree(instance, tmp_path):
    ok(instance.run("init"))
    source = tmp_path / "ninh-binh-2025.yaml"
    source.write_text(TWO_LEVEL_2025, encoding="utf-8")

    output = ok(instance.run("stations", "import", str(source)))
    assert "3 stations: 3 new, 0 updated" in output
    rows = instance.query(
        lambda s: {
            st.code: (st.name, st.level, st.parent.code if st.parent else None, st.depth)
            for st in s.scalars(select(Station))
        }
    )
    assert rows == {
        "37": ("Tỉnh Ninh Bình", "province", None, 0),
        "13285": ("Phường Phủ Lý", "commune", "37", 1),
        "13612": ("Xã Nhân Hà", "commune", "37", 1),
    }
    assert "0 new" in ok(instance.run("stations", "import", str(source)))


BAD_FILES = {
    "no-code.yaml": "- name: Tỉnh Ninh Bình\n  wards: []\n",
    "not-yaml.yaml": "- name: [unclosed\n  code: 37\n",
    "duplicate.yaml": "- {name: A, code: 37, wards: [{name: B, code: 1}, {name: C, code: 1}]}\n",
    "scalar.yaml": "just a sentence\n",
    "broken.json": '[{"name": "A", "code": 37,',
    "wards-not-a-list.json": '[{"name": "A", "code": 37, "wards": "B"}]',
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_importing_a_bad_file_is_one_line_and_exit_1(instance, tmp_path, name):
    ok(instance.run("init"))
    source = tmp_path / name
    source.write_text(BAD_FILES[name], encoding="utf-8")
    line = fails(instance.run("stations", "import", str(source)))
    assert name in line
    assert instance.count(Station) == 0


def test_importing_a_missing_file_names_the_bundled_trees(instance, tmp_path):
    ok(instance.run("init"))
    line = fails(instance.run("stations", "import", str(tmp_path / "nowhere.json")))
    assert "ha-nam-2024" in line


# --- loaxa user add -------------------------------------------------------------------------


def test_user_add_with_password(demo):
    output = ok(
        demo.run(
            "user", "add", "bientap.lynhan", "--role", "editor", "--station", "353",
            "--password", "mat-khau-dai", "--full-name", "Biên tập viên Lý Nhân",
        )
    )  # fmt: skip
    assert "bientap.lynhan" in output
    user = demo.query(lambda s: s.scalar(select(User).where(User.username == "bientap.lynhan")))
    assert (user.role, user.full_name) == ("editor", "Biên tập viên Lý Nhân")
    assert accounts.verify_password(user, "mat-khau-dai")
    assert not accounts.verify_password(user, "sai-mat-khau")
    station = demo.query(lambda s: s.get(Station, user.station_id).code)
    assert station == "353"


def test_user_add_prompts_for_the_password(demo):
    result = demo.run(
        "user", "add", "duyet.lynhan", "--role", "approver", "--station", "353",
        input="mat-khau-dai\nmat-khau-dai\n",
    )  # fmt: skip
    ok(result)
    user = demo.query(lambda s: s.scalar(select(User).where(User.username == "duyet.lynhan")))
    assert accounts.verify_password(user, "mat-khau-dai")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["admin", "--role", "editor", "--station", "347"], "taken"),
        (["Bien Tap", "--role", "editor", "--station", "347"], "username"),
        (["moi", "--role", "editor", "--station", "99999"], "99999"),
    ],
    ids=["duplicate", "bad-username", "unknown-station"],
)
def test_user_add_refuses_with_one_line(demo, args, said):
    users = demo.count(User)
    line = fails(demo.run("user", "add", *args, "--password", "mat-khau-dai"))
    assert said in line
    assert demo.count(User) == users


def test_user_add_refuses_a_short_password(demo):
    line = fails(demo.run("user", "add", "moi", "--role", "editor", "--station", "347",
                          "--password", "ngan"))  # fmt: skip
    assert "password" in line


def test_user_add_refuses_an_unknown_role(demo):
    result = demo.run("user", "add", "moi", "--role", "boss", "--station", "347", "--password", "x")
    assert result.exit_code == 2  # click's usage error
    assert "Traceback" not in result.output


# --- loaxa token new / api-token new --------------------------------------------------------


def station_of(instance: Instance, token: str) -> str | None:
    def find(session: Session) -> str | None:
        station = accounts.station_for_token(session, token)
        return station.code if station else None

    return instance.query(find)


def test_station_token_is_printed_once_and_rotating_revokes_the_old_one(demo):
    first = ok(demo.run("token", "new", "13285")).strip()
    assert first.startswith("lxs_")
    assert "\n" not in first
    assert station_of(demo, first) == "13285"

    second = ok(demo.run("token", "new", "13285")).strip()
    assert second != first
    assert station_of(demo, second) == "13285"
    assert station_of(demo, first) is None

    other = ok(demo.run("token", "new", "13291")).strip()
    assert station_of(demo, other) == "13291"
    assert station_of(demo, second) == "13285"  # another station's rotation leaves it alone


def test_station_token_for_an_unknown_station_fails(demo):
    assert "99999" in fails(demo.run("token", "new", "99999"))


def test_api_token_works_against_the_api(demo, tmp_path):
    token = ok(demo.run("api-token", "new", "bientap.phuly")).strip()
    assert token.startswith("lxu_")
    app = create_app({"instance_path": demo.path, "database_url": demo.database_url})
    try:
        client = app.test_client()
        response = client.get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.json
        assert len(response.json) == 15  # the editor's district
        assert client.get("/api/v1/stations").status_code == 401
    finally:
        app.extensions["loaxa"]["engine"].dispose()


def test_api_token_for_an_unknown_user_fails(demo):
    assert "nobody" in fails(demo.run("api-token", "new", "nobody"))


# --- loaxa timeline -------------------------------------------------------------------------


def test_timeline_prints_the_demo_relays_by_day(demo):
    output = ok(demo.run("timeline", "13285", "--date", "2026-04-21", "--days", "2"))
    assert "Đài truyền thanh Phường Quang Trung" in output
    assert "21/4/2026" in output
    assert "22/4/2026" in output
    assert "23/4/2026" not in output
    tuesday = output.split("21/4/2026")[1].split("22/4/2026")[0]
    for expected in ("05:00–05:30", "05:30–06:00", "06:00–06:30", "17:00–17:30", "18:00–18:30"):
        assert expected in tuesday, (expected, tuesday)
    assert "Tiếp âm Thời sự Đài PT-TH Hà Nam" in tuesday
    assert "Chương trình phát thanh Phủ Lý (sáng)" in tuesday
    starts = [line.split()[0] for line in tuesday.splitlines() if "–" in line]
    assert starts == sorted(starts)


def test_timeline_on_sunday_has_no_district_programme(demo):
    output = ok(demo.run("timeline", "13285", "--date", "2026-04-26"))
    assert "26/4/2026" in output
    assert "05:30–06:00" in output
    assert "Phủ Lý (sáng)" not in output  # Monday to Saturday only


def test_timeline_defaults_to_today(demo):
    output = ok(demo.run("timeline", "13567"))
    assert "20/4/2026" in output
    assert "05:30–06:00" in output


def test_timeline_of_an_unknown_station_fails_clearly(demo):
    line = fails(demo.run("timeline", "99999"))
    assert "99999" in line
    assert "station" in line


def test_timeline_with_a_bad_date_is_a_usage_error(demo):
    result = demo.run("timeline", "13285", "--date", "21/4/2026")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- The 2025 map ---------------------------------------------------------------------------


def test_importing_the_2025_map_of_one_province_and_a_bad_province(instance):
    ok(instance.run("init"))
    said = ok(instance.run("stations", "import", "vn-2025", "--province", "37"))
    assert "130 stations: 130 new" in said
    assert instance.count(Station) == 130
    line = fails(instance.run("stations", "import", "vn-2025", "--province", "99"))
    assert "no province '99'" in line


def test_init_demo_on_the_2025_map_is_the_new_ninh_binh(instance):
    said = ok(instance.run("init", "--demo", "--map", "2025"))
    assert "Stations: 130 (Ninh Bình 2025)" in said and "vanhanh.phuly" in said
    levels = instance.query(lambda s: sorted(set(s.scalars(select(Station.level)))))
    assert levels == ["commune", "province"]  # no district level
    titles = instance.query(lambda s: set(s.scalars(select(Broadcast.title))))
    assert "Tiếp âm Thời sự Đài PT-TH Ninh Bình" in titles
    assert "Bản tin học tập suốt đời phường Phủ Lý" in titles
    timeline = ok(instance.run("timeline", "13291", "--days", "1"))
    assert "Tiếp âm Thời sự Đài PT-TH Ninh Bình" in timeline


def test_migrate_to_2025_dry_run_then_for_real_then_again(demo):
    dry = ok(demo.run("stations", "migrate", "--to", "2025", "--dry-run", "--on", "2026-05-01"))
    assert "Dự kiến chuyển sang bản đồ hành chính 2025 từ ngày 1/5/2026" in dry
    assert "98 xã/phường thành 33" in dry and "Chưa thay đổi gì (--dry-run)" in dry
    assert "chia — cần người chọn" in dry and "Phường Hà Nam (13366) — mặc định" in dry
    assert "bientap.phuly: Thành phố Phủ Lý → Tỉnh Ninh Bình (37)" in dry
    assert demo.count(Station) == 105  # nothing changed
    done = ok(demo.run("stations", "migrate", "--to", "2025", "--on", "2026-05-01"))
    assert done.startswith("Đã chuyển sang bản đồ hành chính 2025")
    live = demo.query(
        lambda s: s.scalar(select(func.count(Station.id)).where(Station.retired_on.is_(None)))
    )
    assert live == 34  # Ninh Bình and the 33 communes Hà Nam's 98 became
    again = ok(demo.run("stations", "migrate", "--to", "2025"))
    assert "mạng đã ở bản đồ 2025. Không thay đổi gì." in again
    # Phủ Lý airs on the new map from the day of the move, what Hà Nam's communes aired
    assert "nothing scheduled" in ok(demo.run("timeline", "13291", "--date", "2026-04-30"))
    timeline = ok(demo.run("timeline", "13291", "--date", "2026-05-04"))
    assert "Tiếp âm Thời sự Đài PT-TH Hà Nam" in timeline and "Phủ Lý (chiều)" in timeline
    assert "nothing scheduled" in ok(demo.run("timeline", "13294", "--date", "2026-05-04"))


def test_migrate_with_a_mapping_that_names_unknown_codes_is_one_line(demo, tmp_path):
    mapping = tmp_path / "quyet-dinh.csv"
    mapping.write_text("old,new\n13285,99999\n", "utf-8")
    line = fails(demo.run("stations", "migrate", "--to", "2025", "--mapping", str(mapping)))
    assert "99999 is not a unit of the 2025 map" in line


# --- loaxa backup / restore -----------------------------------------------------------------


def _media(instance: Instance) -> dict[str, bytes]:
    root = instance.path / "media"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _counts(instance: Instance) -> dict[str, int]:
    from scheduler.db import Base

    return {t.name: instance.count(t) for t in Base.metadata.sorted_tables}


def test_a_backup_restores_the_same_network_schedule_and_media(demo, tmp_path):
    archive = tmp_path / "sao-luu.tar.gz"
    said = ok(demo.run("backup", str(archive)))
    assert said.startswith(str(archive)) and "media files" in said
    fresh = Instance(tmp_path / "fresh")
    restored = ok(fresh.run("restore", str(archive)))
    assert "restored" in restored
    assert _counts(fresh) == _counts(demo) and _counts(fresh)["stations"] == 105
    assert _media(fresh) == _media(demo) and len(_media(demo)) >= 4  # bulletins + programme
    week = ("timeline", "13285", "--date", "2026-04-20", "--days", "7")
    assert ok(fresh.run(*week)) == ok(demo.run(*week))
    # what the restored server hands out next follows the restored rows
    ok(fresh.run("user", "add", "bientap.moi", "--role", "editor", "--station", "347",
                 "--password", "mat-khau-dai-1"))  # fmt: skip
    assert fresh.count(User) == len(DEMO_USERS) + 1


def test_restore_refuses_a_database_in_use_and_a_file_that_is_not_a_backup(demo, tmp_path):
    archive = tmp_path / "sao-luu.tar.gz"
    ok(demo.run("backup", str(archive)))
    assert "not empty" in fails(demo.run("restore", str(archive)))
    junk = tmp_path / "khong-phai.tar.gz"
    junk.write_bytes(b"not an archive")
    fresh = Instance(tmp_path / "fresh")
    assert "is not a Loa Xã backup" in fails(fresh.run("restore", str(junk)))
    database = fresh.path / "loaxa.db"
    assert not database.exists() or fresh.count(Station) == 0  # nothing half-restored


def test_a_sqlite_backup_restores_on_postgresql(demo, tmp_path, postgres_engine):
    from sqlalchemy import text

    from scheduler.db import Base

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with postgres_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    archive = tmp_path / "sao-luu.tar.gz"
    ok(demo.run("backup", str(archive)))
    url = postgres_engine.url.render_as_string(hide_password=False)
    target = Instance(tmp_path / "pg")
    env = {"LOAXA_DATABASE_URL": url}
    ok(target.run("restore", str(archive), env=env))
    week = ("timeline", "13285", "--date", "2026-04-20", "--days", "7")
    assert ok(target.run(*week, env=env)) == ok(demo.run(*week))
    ok(
        target.run(
            "user",
            "add",
            "bientap.pg",
            "--role",
            "editor",
            "--station",
            "347",
            "--password",
            "mat-khau-dai-1",
            env=env,
        )
    )  # new ids follow the restored
