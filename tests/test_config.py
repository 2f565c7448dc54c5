"""Configuration (docs/architecture.md): settings layered defaults → instance file → ``LOAXA_*``
environment → explicit overrides, failing fast with the key's name; and the station
directory reader (bundled Hà Nam 2024 tree, JSON/YAML files, the 2025 two-level shape)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, Settings, load_settings
from config.directory import DirectoryError, StationNode, read_directory

# --- settings -------------------------------------------------------------------------------


def write_instance_file(instance: Path, text: str) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "loaxa.toml").write_text(text, encoding="utf-8")


def test_defaults(tmp_path):
    settings = load_settings(instance_path=tmp_path, environ={})
    assert isinstance(settings, Settings)
    assert settings.instance_path == tmp_path.resolve()
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'loaxa.db'}"
    assert settings.mqtt_url is None
    assert settings.tts_engine == "auto"
    assert settings.default_max_delay_s == 1800
    assert settings.resolved_media_dir == tmp_path.resolve() / "media"


def test_secret_key_is_made_once_per_instance(tmp_path):
    first = load_settings(instance_path=tmp_path, environ={}).secret_key
    assert len(first) >= 32
    assert load_settings(instance_path=tmp_path, environ={}).secret_key == first
    other = load_settings(instance_path=tmp_path / "other", environ={}).secret_key
    assert other != first


def test_instance_comes_from_loaxa_instance(tmp_path):
    settings = load_settings(environ={"LOAXA_INSTANCE": str(tmp_path)})
    assert settings.instance_path == tmp_path.resolve()


@pytest.mark.parametrize(
    ("in_file", "in_env", "override", "expected"),
    [
        (None, None, None, 30),
        (60, None, None, 60),
        (60, "90", None, 90),
        (None, "90", None, 90),
        (60, "90", 120, 120),
        (60, None, 120, 120),
    ],
    ids=["default", "file", "env-beats-file", "env", "override-beats-all", "override-beats-file"],
)
def test_precedence_defaults_file_environment_overrides(
    tmp_path, in_file, in_env, override, expected
):
    if in_file is not None:
        write_instance_file(tmp_path, f"min_fragment_s = {in_file}\n")
    environ = {"LOAXA_MIN_FRAGMENT_S": in_env} if in_env is not None else {}
    overrides = {"min_fragment_s": override} if override is not None else {}
    settings = load_settings(instance_path=tmp_path, environ=environ, **overrides)
    assert settings.min_fragment_s == expected


def test_layers_mix_key_by_key(tmp_path):
    write_instance_file(
        tmp_path,
        'timezone = "Asia/Bangkok"\nsession_gap_s = 120\nmqtt_url = "mqtt://broker:1883"\n',
    )
    environ = {
        "LOAXA_SESSION_GAP_S": "600",
        "LOAXA_DATABASE_URL": "postgresql://loaxa@db/loaxa",
        "LOAXA_MEDIA_DIR": str(tmp_path / "audio"),
        "LOAXA_SOMETHING_ELSE": "ignored",
        "PATH": "/usr/bin",
    }
    settings = load_settings(instance_path=tmp_path, environ=environ, secret_key="s3cret")
    assert settings.timezone == "Asia/Bangkok"  # file
    assert settings.mqtt_url == "mqtt://broker:1883"  # file
    assert settings.session_gap_s == 600  # environment over file
    assert settings.database_url == "postgresql://loaxa@db/loaxa"  # environment
    assert settings.resolved_media_dir == tmp_path / "audio"
    assert settings.secret_key == "s3cret"  # override


def test_settings_are_frozen(tmp_path):
    settings = load_settings(instance_path=tmp_path, environ={})
    with pytest.raises(ValueError):
        settings.timezone = "UTC"  # type: ignore[misc]


BAD_SETTINGS: list[Any] = [
    # (id, instance file, environ, overrides, words the message must contain)
    (
        "env-bad-int",
        None,
        {"LOAXA_MIN_FRAGMENT_S": "abc"},
        {},
        ["min_fragment_s", "LOAXA_MIN_FRAGMENT_S"],
    ),
    (
        "env-int-out-of-range",
        None,
        {"LOAXA_CONFLICT_PREVIEW_DAYS": "0"},
        {},
        ["conflict_preview_days", "LOAXA_CONFLICT_PREVIEW_DAYS"],
    ),
    (
        "env-unknown-timezone",
        None,
        {"LOAXA_TIMEZONE": "Asia/Hanoi_City"},
        {},
        ["timezone", "LOAXA_TIMEZONE", "Asia/Hanoi_City"],
    ),
    (
        "env-bad-mqtt-url",
        None,
        {"LOAXA_MQTT_URL": "http://broker:1883"},
        {},
        ["mqtt_url", "LOAXA_MQTT_URL", "mqtt://"],
    ),
    ("env-unknown-tts", None, {"LOAXA_TTS_ENGINE": "siri"}, {}, ["tts_engine", "LOAXA_TTS_ENGINE"]),
    (
        "file-bad-int",
        'session_gap_s = "năm phút"\n',
        {},
        {},
        ["session_gap_s", "LOAXA_SESSION_GAP_S", "loaxa.toml"],
    ),
    ("file-unknown-timezone", 'timezone = "Mars/Olympus"\n', {}, {}, ["timezone", "loaxa.toml"]),
    ("file-bad-mqtt-url", 'mqtt_url = "tcp://broker"\n', {}, {}, ["mqtt_url", "loaxa.toml"]),
    ("file-unknown-key", 'colour = "đỏ"\n', {}, {}, ["colour", "loaxa.toml"]),
    ("file-bad-toml", "timezone = Asia/Bangkok\n", {}, {}, ["loaxa.toml", "TOML"]),
    ("override-bad-timezone", None, {}, {"timezone": "Nowhere/Land"}, ["timezone", "overrides"]),
]


@pytest.mark.parametrize(
    ("instance_file", "environ", "overrides", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_SETTINGS],
)
def test_bad_value_raises_config_error_naming_the_key(
    tmp_path, instance_file, environ, overrides, words
):
    if instance_file is not None:
        write_instance_file(tmp_path, instance_file)
    with pytest.raises(ConfigError) as raised:
        load_settings(instance_path=tmp_path, environ=environ, **overrides)
    message = str(raised.value)
    for word in words:
        assert word in message, message
    assert "\n" not in message


def test_environment_wins_over_a_bad_value_in_the_file(tmp_path):
    write_instance_file(tmp_path, 'timezone = "Mars/Olympus"\n')
    settings = load_settings(instance_path=tmp_path, environ={"LOAXA_TIMEZONE": "Asia/Bangkok"})
    assert settings.timezone == "Asia/Bangkok"


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


# --- station directories --------------------------------------------------------------------


def by_code(nodes: list[StationNode]) -> dict[str, StationNode]:
    return {n.code: n for n in nodes}


def test_bundled_ha_nam_2024_tree():
    nodes = read_directory("ha-nam-2024")
    levels = Counter(n.level for n in nodes)
    assert levels == {"province": 1, "district": 6, "commune": 98}
    stations = by_code(nodes)
    assert len(stations) == 105
    assert stations["35"] == StationNode("35", "Tỉnh Hà Nam", "province", None)
    assert stations["347"] == StationNode("347", "Thành phố Phủ Lý", "district", "35")
    assert stations["353"] == StationNode("353", "Huyện Lý Nhân", "district", "35")
    assert stations["13285"] == StationNode("13285", "Phường Quang Trung", "commune", "347")
    assert stations["13567"].name == "Xã Hợp Lý"
    assert stations["13567"].parent == "353"
    assert {n.name for n in nodes if n.level == "district"} >= {
        "Thành phố Phủ Lý",
        "Huyện Lý Nhân",
        "Thị xã Duy Tiên",
        "Thị xã Kim Bảng",
        "Huyện Thanh Liêm",
        "Huyện Bình Lục",
    }
    width = {"province": 2, "district": 3, "commune": 5}
    for node in nodes:
        assert node.code.isdigit() and len(node.code) == width[node.level], node


def test_bundled_tree_lists_parents_before_children():
    seen: set[str] = set()
    for node in read_directory("ha-nam-2024"):
        assert node.parent is None or node.parent in seen, node
        seen.add(node.code)


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_numeric_codes_repeating_across_levels_become_unique_padded_codes(tmp_path):
    tree = [
        {
            "name": "Thành phố Hà Nội",
            "code": 1,
            "division_type": "thành phố trung ương",
            "districts": [
                {
                    "name": "Quận Ba Đình",
                    "code": 1,
                    "division_type": "quận",
                    "wards": [
                        {"name": "Phường Phúc Xá", "code": 1, "division_type": "phường"},
                        {"name": "Phường Trúc Bạch", "code": 4, "division_type": "phường"},
                    ],
                }
            ],
        }
    ]
    nodes = read_directory(write(tmp_path, "ha-noi.json", tree))
    assert [(n.code, n.level, n.parent) for n in nodes] == [
        ("01", "province", None),
        ("001", "district", "01"),
        ("00001", "commune", "001"),
        ("00004", "commune", "001"),
    ]


def test_levels_follow_depth_when_the_file_does_not_say(tmp_path):
    tree = {
        "name": "Tỉnh A",
        "code": 2,
        "districts": [{"name": "Huyện B", "code": 26, "wards": [{"name": "Xã C", "code": 712}]}],
    }
    nodes = read_directory(write(tmp_path, "a.json", tree))
    assert [(n.code, n.level) for n in nodes] == [
        ("02", "province"),
        ("026", "district"),
        ("00712", "commune"),
    ]


def test_two_level_2025_yaml_tree_with_division_types(tmp_path):
    text = """\
- name: Tỉnh Ninh Bình
  code: 37
  division_type: tỉnh
  wards:
    - {name: Phường Phủ Lý, code: 13285, division_type: phường}
    - {name: Xã Nhân Hà, code: 13612, division_type: xã}
    - {name: Đặc khu Cồn Cỏ, code: 19999, division_type: đặc khu}
"""
    nodes = read_directory(write(tmp_path, "ninh-binh.yaml", text))
    assert [(n.code, n.name, n.level, n.parent) for n in nodes] == [
        ("37", "Tỉnh Ninh Bình", "province", None),
        ("13285", "Phường Phủ Lý", "commune", "37"),
        ("13612", "Xã Nhân Hà", "commune", "37"),
        ("19999", "Đặc khu Cồn Cỏ", "commune", "37"),
    ]


def test_two_level_2025_tree_wards_are_communes_without_division_types(tmp_path):
    """The 2025 shape puts communes straight under a province's ``wards``."""
    text = """\
- name: Thành phố Hà Nội
  code: 1
  wards:
    - {name: Phường Hoàn Kiếm, code: 70}
    - {name: Phường Cửa Nam, code: 73}
"""
    nodes = read_directory(write(tmp_path, "ha-noi-2025.yml", text))
    assert [(n.code, n.level, n.parent) for n in nodes] == [
        ("01", "province", None),
        ("00070", "commune", "01"),
        ("00073", "commune", "01"),
    ]


def test_explicit_levels_and_string_codes_are_kept(tmp_path):
    tree = [
        {
            "name": "Đài tỉnh",
            "code": "HN",
            "level": "province",
            "children": [{"name": "Đài xã", "code": "HN-01", "level": "commune"}],
        }
    ]
    nodes = read_directory(write(tmp_path, "custom.json", tree))
    assert [(n.code, n.level, n.parent) for n in nodes] == [
        ("HN", "province", None),
        ("HN-01", "commune", "HN"),
    ]


BAD_DIRECTORIES: list[Any] = [
    # (id, file name, content, words in the message)
    (
        "duplicate-siblings",
        "d.json",
        [{"name": "A", "code": 37, "wards": [{"name": "B", "code": 1}, {"name": "C", "code": 1}]}],
        ["appears twice"],
    ),
    (
        "duplicate-string-codes",
        "d.json",
        [{"name": "A", "code": "X"}, {"name": "B", "code": "X"}],
        ["X", "twice"],
    ),
    ("missing-code", "m.json", [{"name": "Tỉnh A"}], ["name and code"]),
    ("missing-name", "m.json", [{"code": 37}], ["name and code"]),
    (
        "entry-not-an-object",
        "m.json",
        [{"name": "A", "code": 1, "wards": ["Xã B"]}],
        ["name and code"],
    ),
    (
        "children-not-a-list",
        "c.json",
        [{"name": "A", "code": 1, "wards": {"name": "B"}}],
        ["must be a list"],
    ),
    ("bad-code-characters", "c.json", [{"name": "A", "code": "35/347"}], ["35/347"]),
    ("empty-code", "c.json", [{"name": "A", "code": " "}], ["code"]),
    ("boolean-code", "c.json", [{"name": "A", "code": True}], ["code"]),
    ("empty-list", "e.json", [], ["expected a list"]),
    ("scalar", "s.yaml", "just a sentence\n", ["expected a list"]),
    ("bad-json", "b.json", '[{"name": "A", "code": 1', ["not valid JSON", "line 1"]),
    ("bad-yaml", "b.yaml", "- name: [unclosed\n  code: 1\n", ["not valid YAML", "line 2"]),
]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_DIRECTORIES],
)
def test_malformed_directory_raises_directory_error(tmp_path, name, content, words):
    with pytest.raises(DirectoryError) as raised:
        read_directory(write(tmp_path, name, content))
    for word in words:
        assert word in str(raised.value), raised.value


def test_unknown_source_names_the_bundled_directories(tmp_path):
    with pytest.raises(DirectoryError, match="ha-nam-2024"):
        read_directory(tmp_path / "nowhere.json")
    with pytest.raises(DirectoryError):
        read_directory("ha-nam-2099")


def test_directory_error_is_a_value_error():
    assert issubclass(DirectoryError, ValueError)
