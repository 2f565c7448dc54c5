"""Settings are data, validated once at start-up.

Order of precedence (later wins): built-in defaults → the instance file
(``<instance>/loaxa.toml``) → ``LOAXA_*`` environment variables → explicit overrides (tests).
A bad value stops start-up with a :class:`ConfigError` that names the key, so an operator
fixing a deployment knows exactly which line to change.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "LOAXA_"
INSTANCE_FILE = "loaxa.toml"


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names the key."""


class Settings(BaseModel):
    """Every knob of a Loa Xã server or agent, with its default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_path: Path
    database_url: str = ""
    media_dir: Path | None = None
    secret_key: str = ""
    mqtt_url: str | None = None
    # Where web processes share built manifests (``redis://…``); unset: in the database.
    redis_url: str | None = None
    # Behind nginx: media answered by ``X-Accel-Redirect: <prefix><aa>/<sha256>.mp3`` (an
    # ``internal`` location aliased to the media folder), so workers never stream files.
    media_accel_prefix: str | None = None
    # A background job (render, TTS, ingest) whose process stops renewing its claim for this
    # long is taken up by another process (a worker killed, a machine gone).
    job_lease_s: float = Field(30.0, ge=2, le=3600)
    timezone: str = "Asia/Ho_Chi_Minh"
    tts_engine: str = "auto"
    # Schedule rules (docs/architecture.md "Rules of the schedule").
    default_max_delay_s: int = Field(1800, ge=0, le=86_400)
    min_fragment_s: int = Field(30, ge=1, le=3600)
    clash_horizon_days: int = Field(62, ge=1, le=400)
    conflict_preview_days: int = Field(7, ge=1, le=62)
    manifest_hours: int = Field(48, ge=24, le=24 * 14)
    # How far apart two airings may be and still count as one listening session (caps).
    session_gap_s: int = Field(300, ge=0, le=3600)
    # A station whose agent has not been heard from for this long shows as offline.
    offline_after_s: int = Field(180, ge=10, le=86_400)
    # Reports (issue #10): an airing with no play log this long after its end is missed —
    # no report; before that the agent may still be uploading it.
    report_grace_s: int = Field(600, ge=0, le=86_400)

    # Emergencies (docs/architecture.md rule 6). An alert airs "as soon as received": an airing that
    # reaches a station late still starts (from its first word) until the next repeat is due
    # or the alert expires; an alert sent without an expiry expires this long after its
    # last airing's start, so a station back from an outage still hears it within that time.
    alert_default_expiry_s: int = Field(3600, ge=60, le=7 * 86_400)
    # An attention tone (two tones, 853 + 960 Hz as broadcasters use) before the words: 0 = none.
    alert_tone_s: float = Field(0.0, ge=0, le=10)
    # CAP 1.2 alerts (README "CAP: from urgency and severity to the air"). A message sent
    # longer ago than this (a replay, a queue flushed late) is recorded, not aired.
    cap_max_age_s: int = Field(6 * 3600, ge=60, le=7 * 86_400)
    # Moderate, Minor or Unknown severity (or Future/Unknown urgency): "priority" airs it as a
    # priority bulletin at the next free slot; "record" keeps it without airing.
    cap_minor_policy: Literal["priority", "record"] = "priority"
    # A message with no Vietnamese <info> (vi, vi-VN): "translate" keeps it until an approver
    # enters the Vietnamese words in the panel, then airs them; "refuse" records it, not aired.
    # Never read out in another language with the Vietnamese voice.
    cap_no_vietnamese: Literal["translate", "refuse"] = "translate"
    # The sender's own audio (<resource> by <uri>) is fetched only from these hosts (and their
    # subdomains), comma-separated; empty: none, only audio embedded in <derefUri> is used.
    # Whatever cannot be used falls back to speaking the text, with a note saying why.
    cap_resource_hosts: str = ""
    cap_resource_max_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=500 * 1024 * 1024)
    cap_resource_timeout_s: float = Field(15.0, gt=0, le=300)  # the whole download
    cap_resource_max_s: int = Field(900, ge=1, le=6 * 3600)  # longer audio is not aired
    # The longest a held manifest request waits for a change (agents without a broker).
    manifest_wait_max_s: float = Field(30.0, ge=0, le=300)

    # Audio pipeline (docs/architecture.md "Audio pipeline"): what every segment is turned into.
    target_lufs: float = Field(-16.0, ge=-40.0, le=-5.0)  # integrated loudness, ITU-R BS.1770
    true_peak_db: float = Field(-1.0, ge=-12.0, le=0.0)  # ceiling, dBTP
    sample_rate: Literal[44100, 48000] = 44100
    mp3_bitrate_k: int = Field(128, ge=32, le=320)
    max_upload_mb: int = Field(200, ge=1, le=4096)
    max_duration_s: int = Field(5400, ge=10, le=6 * 3600)  # 90 min
    min_duration_s: float = Field(0.5, ge=0.1, le=60)
    # Edges quieter than this (dBFS, short-term RMS) are trimmed; pauses inside stay.
    silence_threshold_db: float = Field(-50.0, ge=-90.0, le=-20.0)
    # A recording is refused as silent only when no 20 ms frame is louder than this
    # (inaudible); a quieter one than the edge threshold is kept, raised and flagged.
    inaudible_db: float = Field(-60.0, ge=-100.0, le=-30.0)
    ffmpeg_path: str | None = None  # default: ffmpeg on PATH, else the imageio-ffmpeg wheel's
    # Work this small is done inside the request (answer "ready"); longer goes to a job.
    sync_audio_max_s: int = Field(120, ge=0, le=3600)
    sync_tts_max_chars: int = Field(1500, ge=0, le=200_000)

    # Text to speech.
    tts_fallback: str = "gtts,espeak"  # engines tried in order when tts_engine is auto
    tts_timeout_s: float = Field(10.0, gt=0, le=120)
    tts_retries: int = Field(2, ge=0, le=10)
    tts_max_chars: int = Field(20_000, ge=100, le=200_000)
    tts_cache_dir: Path | None = None

    # Reverse proxies in front of the server (nginx: 1): their X-Forwarded-* headers are
    # trusted, so login rate limits and logs see the real client address.
    trusted_proxies: int = Field(0, ge=0, le=5)

    # Station agent and player (docs/architecture.md "Agent").
    agent_poll_s: float = Field(15.0, ge=1, le=3600)  # between manifest checks
    agent_heartbeat_s: float = Field(60.0, ge=5, le=3600)
    # The job for an item fires this long before its start: media loaded, start latency known.
    agent_lead_s: float = Field(3.0, ge=0.5, le=60)
    # A live relay is opened this long before its window, so the first second is not lost.
    relay_preroll_s: float = Field(5.0, ge=0, le=120)
    relay_retry_s: float = Field(3.0, ge=0.5, le=60)  # pause between reconnects inside a window
    player_audio_output: str | None = None  # libvlc --aout (alsa, pulse…); None: VLC's default
    player_audio_device: str | None = None
    filler_path: Path | None = None  # aired when a relay source is dead; None: silence

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://", "postgresql+")):
            raise ValueError("must be a sqlite:/// path or a postgresql:// URL")
        return value

    @field_validator("tts_engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in {"auto", "gtts", "espeak"}:
            raise ValueError("must be one of auto, gtts, espeak")
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("media_accel_prefix")
    @classmethod
    def _accel_path(cls, value: str | None) -> str | None:
        if value and not (value.startswith("/") and value.endswith("/")):
            raise ValueError("must be a path starting and ending with / (e.g. /_media/)")
        return value or None

    @field_validator("tts_fallback")
    @classmethod
    def _known_engines(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in {"gtts", "espeak"}]
        if not names or unknown:
            raise ValueError("must list engines from gtts, espeak, e.g. 'gtts,espeak'")
        return ",".join(names)

    @field_validator("cap_resource_hosts")
    @classmethod
    def _host_names(cls, value: str) -> str:
        hosts = [h.strip().lower().rstrip(".") for h in value.split(",") if h.strip()]
        bad = [h for h in hosts if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", h)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a host name; list names like 'kttv.gov.vn'")
        return ",".join(hosts)

    @property
    def resource_hosts(self) -> list[str]:
        return self.cap_resource_hosts.split(",") if self.cap_resource_hosts else []

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.instance_path / "media"

    @property
    def resolved_tts_cache_dir(self) -> Path:
        return self.tts_cache_dir or self.instance_path / "tts-cache"

    @property
    def tts_order(self) -> list[str]:
        """Engines to try, in order: the configured one alone, or the fallback list."""
        if self.tts_engine != "auto":
            return [self.tts_engine]
        return self.tts_fallback.split(",")


def _read_instance_file(instance_path: Path) -> dict[str, Any]:
    path = instance_path / INSTANCE_FILE
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc


def _from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    known = set(Settings.model_fields)
    values: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key in known and key != "instance_path":
            values[key] = value
    return values


def load_settings(
    instance_path: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings; raise :class:`ConfigError` naming the first bad key."""
    environ = os.environ if environ is None else environ
    instance = Path(instance_path or environ.get("LOAXA_INSTANCE") or "instance").resolve()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in (
        (str(instance / INSTANCE_FILE), _read_instance_file(instance)),
        ("environment", _from_environment(environ)),
        ("overrides", overrides),
    ):
        for key, value in layer.items():
            values[key] = value
            sources[key] = source
    if not values.get("database_url"):
        values["database_url"] = f"sqlite:///{instance / 'loaxa.db'}"
    if not values.get("secret_key"):
        values["secret_key"] = _instance_secret(instance)
    try:
        return Settings(instance_path=instance, **values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        where = sources.get(key, "defaults")
        env_name = ENV_PREFIX + key.upper()
        raise ConfigError(f"{key} ({env_name}, from {where}): {error['msg']}") from exc


def _instance_secret(instance: Path) -> str:
    """A per-instance random secret, created once, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
