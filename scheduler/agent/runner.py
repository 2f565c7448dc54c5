"""The station agent: keeps the manifest, the media and the play logs, and airs on time.

Threads, each with one job:
- **sync** asks for the manifest with ``If-None-Match``: with a broker, every ``poll_s`` and at
  once when an MQTT message arrives (any message means "sync now"); without one, as a held
  request (``wait=poll_s``) the server answers the moment the station's schedule changes, so
  an alert arrives within a second either way. It fetches an emergency's media itself, so
  an emergency never waits behind the download of an ordinary programme;
- **downloads** fetches everything else, nearest start first;
- **APScheduler** fires one job per item (job id = item id) ``lead_s`` before its start and
  hands the player a cue; the player hits the instant. Jobs are re-armed on every manifest
  change and removed when their item disappears. Heartbeats and log uploads are jobs too.

Nothing here imports Flask or the server's models: a commune machine runs this alone, and
everything it needs to keep airing for 48 h without the server is in its cache.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from audio.player import Cue, CueResult, Player
from scheduler.agent import plan
from scheduler.agent.cache import AgentCache, MediaCorrupt
from scheduler.agent.client import (
    VERSION,
    ManifestReply,
    ServerClient,
    ServerUnreachable,
    TokenRefused,
)
from scheduler.agent.plan import Item
from scheduler.agent.proof import prove

log = logging.getLogger("loaxa.agent")
SERVICE_JOBS = {"heartbeat", "upload", "progress"}
# A file whose audio stops this much before the item's end was cut short on disk (an MP3's
# probed length and its decoded one differ by frames, not seconds).
SHORT_BY = timedelta(seconds=1.5)
PROGRESS_S = 5.0  # how often what is on air is marked so (how much a crash can overstate)
# What a full (or failing) cache disk raises: airing must not wait on any of these.
DISK_ERRORS = (sqlite3.OperationalError, OSError)
UPLOAD_BATCH = 200
MAX_BACKOFF_S = 300.0
OFFLINE_RETRY_S = 5.0  # how soon to try the server again while it is unreachable
# After a higher item, a held-back one waits this much longer: an emergency that started a
# little late (it starts from its first word) is never cut before its last.
GRACE = timedelta(seconds=0.5)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Handed:
    """A cue given to the player, until its outcome comes back."""

    item: Item
    cue: Cue
    cut_for: Item | None = None  # the higher item the server cut this one short for
    deferred: bool = False  # un-cued for a higher item: armed again, not logged


class Agent:
    def __init__(
        self,
        client: ServerClient,
        cache: AgentCache,
        make_player: Callable[[Callable[[CueResult], None]], Player],
        *,
        poll_s: float = 15.0,
        heartbeat_s: float = 60.0,
        lead_s: float = 3.0,
        relay_lead_s: float = 5.0,
        mqtt_url: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        name: str = "",
    ) -> None:
        self.name = name  # the station code, for logs (the server knows it from the token)
        self.client = client
        self.cache = cache
        self.poll_s = poll_s
        self.heartbeat_s = heartbeat_s
        self.lead = timedelta(seconds=lead_s)
        self.relay_lead = timedelta(seconds=max(lead_s, relay_lead_s))
        self.mqtt_url = mqtt_url
        self.clock = clock
        self.player = make_player(self._on_done)
        self._lock = threading.RLock()
        self._applying = threading.Lock()  # a manifest being applied, so stop waits for it
        self._items: dict[str, Item] = {}
        self._etag: str | None = None
        self._topics: list[str] = []
        self._handed: dict[str, _Handed] = {}
        self._not_before: dict[str, datetime] = {}  # items held back by a higher one
        # Alert airings this agent holds: when each was received and put on air (the
        # heartbeat reports them until the play log is written).
        self._received: dict[str, datetime] = {}
        self._started: dict[str, datetime] = {}
        self._reported: set[str] = set()  # receipts whose play log has been written
        self._fetching: dict[str, threading.Lock] = {}
        self._stopping = threading.Event()
        self._sync_now = threading.Event()
        self._fetch_now = threading.Event()
        # Fingerprints of what aired, one at a time, off the player's and the scheduler's
        # threads: each play log waits in the cache (held) until its proof is attached.
        self._proofs = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="loaxa-proof")
        self._backoff_s = 0.0
        self._next_upload = datetime.min.replace(tzinfo=UTC)
        # Play logs the disk refused (full): kept here and uploaded from memory.
        self._unsaved: dict[str, dict[str, Any]] = {}
        self.disk_full = False
        self.online = False
        self.clock_offset_ms: int | None = None
        self.synced = threading.Condition()  # notified after each manifest applied (tests)
        self.revision: int | None = None
        self._threads: list[threading.Thread] = []
        self._mqtt: mqtt.Client | None = None
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4)},
            # A job that fires late still runs (the cue joins in progress); never twice.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # -- life cycle -----------------------------------------------------------------
    def start(self) -> None:
        """Resume from the cache (no server needed), then start syncing."""
        cached = self.cache.load_manifest()
        self.cache.release_held()  # proofs the last run did not finish: the logs go without
        self._recover_crash()
        if cached is not None:
            self._etag, body = cached
            try:
                self._apply(body)
            except plan.ManifestError as exc:
                log.error("cached manifest unreadable, waiting for the server: %s", exc)
        self.cache.prune(plan.needed(self._items.values(), self.clock()), partials=True)
        self.scheduler.add_job(
            self._heartbeat,
            "interval",
            seconds=self.heartbeat_s,
            id="heartbeat",
            next_run_time=self.clock(),
        )
        self.scheduler.add_job(self._upload, "interval", seconds=5, id="upload")
        self.scheduler.add_job(self._mark_progress, "interval", seconds=PROGRESS_S, id="progress")
        self.scheduler.start()
        for name, target in (("sync", self._sync_loop), ("downloads", self._download_loop)):
            thread = threading.Thread(target=target, name=f"loaxa-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.mqtt_url:
            self._start_mqtt(self.mqtt_url)

    def run(self) -> None:
        """Start, then block until SIGTERM/SIGINT, then stop cleanly."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopping.set())
        self.start()
        log.info("agent running (poll %ss, MQTT %s)", self.poll_s, self.mqtt_url or "off")
        self._stopping.wait()
        self.stop()

    def stop(self) -> None:
        """Stop airing (the item on air is logged ``interrupted``), try one last upload."""
        self._stopping.set()
        for event in (self._sync_now, self._fetch_now):
            event.set()
        self.scheduler.shutdown(wait=False)
        self.player.stop("the agent was stopped")
        self.player.close()
        # The proof being made is finished; those not begun leave their logs held on disk
        # (sent, without a fingerprint, when the agent starts again).
        self._proofs.shutdown(wait=True, cancel_futures=True)
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()
        for thread in self._threads:
            # The sync thread may sit in a held manifest request: do not wait that out (it
            # is a daemon, and applies nothing once stopping — see ``sync``).
            thread.join(timeout=0.5 if thread.name == "loaxa-sync" else 5)
        self._applying.acquire()  # a reply being applied finishes before the cache closes
        self.client.timeout = 2.0  # one quick try: what is not sent stays queued on disk
        self._upload(force=True)
        self.client.close()
        self.cache.close()

    def _recover_crash(self) -> None:
        """An item still marked on air means the last run died mid-item (power cut, crash):
        log the part that aired as interrupted; the item rejoins if time is left."""
        airing = self.cache.airing()
        if airing is None:
            return
        item_id, started_at, last_seen = airing
        cached = self.cache.load_manifest()
        items = {i.id: i for i in plan.parse_items(cached[1])} if cached else {}
        item = items.get(item_id)
        # It aired until the agent was last seen airing it, not until the agent came back.
        ended = max(last_seen, started_at)
        if item is not None:
            ended = min(ended, item.end)
        self._log(
            item_id,
            item,
            "interrupted",
            started_at,
            ended,
            "the agent stopped unexpectedly while this was on air",
        )
        self._disk(lambda: self.cache.set_airing(None))

    # -- sync -----------------------------------------------------------------------
    def sync_soon(self) -> None:
        self._sync_now.set()

    def _sync_loop(self) -> None:
        while not self._stopping.is_set():
            self._sync_now.clear()
            asked = time.monotonic()
            held = self.mqtt_url is None and self._etag is not None
            changed = False
            try:
                changed = self.sync(wait=self.poll_s if held else None)
            except Exception:  # the loop must outlive any one bad answer
                log.exception("sync failed")
            took = time.monotonic() - asked
            # Ask again at once after a change (the first manifest too: from then on the
            # request can be held) or when the server held the request.
            if (
                self.mqtt_url is None
                and self.online
                and self._etag is not None
                and (changed or (held and took >= min(1.0, self.poll_s / 2)))
            ):
                continue
            # Polling (a broker pushes changes), or the server did not hold the request (or
            # is away): wait out the interval — while the line is down, a shorter one, so an
            # alert sent during an outage airs within seconds of the line coming back.
            interval = self.poll_s if self.online else min(self.poll_s, OFFLINE_RETRY_S)
            self._sync_now.wait(max(0.0, interval - took))

    def sync(self, wait: float | None = None) -> bool:
        """Fetch the manifest once (held up to ``wait`` seconds for a change); True when it
        changed."""
        try:
            reply = self.client.manifest(self._etag, wait=wait)
        except ServerUnreachable as exc:
            if self.online:
                log.warning("server unreachable, airing from the cache: %s", exc)
            self.online = False
            return False
        except TokenRefused as exc:
            log.error("the server refuses this station token: %s", exc)
            self.online = False
            return False
        with self._applying:
            if self._stopping.is_set():
                return False
            return self._take(reply)

    def _take(self, reply: ManifestReply) -> bool:
        self.online = True
        changed = reply.body is not None
        if reply.body is not None:
            try:
                self._apply(reply.body)
            except plan.ManifestError as exc:
                log.error("ignoring a bad manifest: %s", exc)
                return False
            body = reply.body
            # The ETag is kept only with the manifest it names: a disk that refused it makes
            # the next sync fetch it whole again.
            saved = self._disk(
                lambda: self.cache.save_manifest(reply.etag or "", body, self.clock())
            )
            self._etag = reply.etag if saved else None
        self._server_back()
        self._fetch_urgent()
        self._fetch_now.set()
        with self.synced:
            self.synced.notify_all()
        return changed

    def _apply(self, body: dict[str, Any]) -> None:
        """Make the jobs match the manifest: arm new items, re-time changed ones, drop gone ones,
        log the ones whose time passed without airing."""
        items = {i.id: i for i in plan.parse_items(body)}
        now = self.clock()
        with self._lock:
            self._items = items
            fresh = [i for i in items.values() if i.on_receipt and i.id not in self._received]
            for item in fresh:
                self._received[item.id] = now
            for gone in set(self._received) - set(items):
                if gone in self._handed and gone not in self._reported:
                    continue  # on air: its play log still wants the time it came
                self._received.pop(gone)
                self._started.pop(gone, None)
                self._reported.discard(gone)
            if fresh:
                self._beat_at(now)  # tell the server at once that the alert arrived
            self.revision = body.get("revision")
            topics = [str(t) for t in body.get("mqtt_topics") or []]
            if topics != self._topics:
                self._topics = topics
                self._subscribe()
            logged = self._logged_items()
            for item in plan.missed(items.values(), now, logged | set(self._handed)):
                # An alert that reached this station only after it expired says so; any
                # other item past its time was not aired for want of the agent or its media.
                came_late = item in fresh and item.expires is not None
                why = plan.EXPIRED if came_late else plan.NOT_AIRED
                self._log(item.id, item, "missed", None, None, why)
            for job in self.scheduler.get_jobs():
                if job.id not in SERVICE_JOBS and job.id not in items:
                    # It may fall due (and be dropped by the scheduler) after the listing: its
                    # _air then finds no item and does nothing.
                    with contextlib.suppress(JobLookupError):
                        job.remove()
            for item_id, handed in list(self._handed.items()):
                new = items.get(item_id)
                if new is not None and (new.end == handed.item.end or new.urgent):
                    continue
                # Cancelled, re-timed into a new item, or cut short for a higher one.
                cut_at = now if new is None else new.end
                handed.cut_for = _preempting(items.values(), handed.item, cut_at)
                handed.item = new or handed.item
                if handed.cut_for is not None and handed.cut_for.on_receipt and cut_at < now:
                    continue  # the alert came late: it cuts this itself, at its own start
                self.player.cut(item_id, cut_at)  # may report at once: state set first
            settled = self._logged_items(settled=True)
            for item in items.values():
                if item.id in settled or item.id in self._handed:
                    continue
                if item.end <= now and not plan.still_due(item, now):
                    continue  # over (an alert that came late airs on receipt while due)
                # A relay is opened earlier than a file is loaded: a stream needs time to buffer.
                lead = self.relay_lead if item.stream_url else self.lead
                self.scheduler.add_job(
                    self._air,
                    "date",
                    run_date=max(item.start - lead, now),
                    id=item.id,
                    args=[item.id],
                    replace_existing=True,
                )

    # -- media ----------------------------------------------------------------------
    def _fetch(self, media: plan.Media) -> bool:
        with self._lock:
            busy = self._fetching.setdefault(media.sha256, threading.Lock())
        with busy:  # two threads wanting one file: one download, the other waits for it
            return self._fetch_once(media)

    def _fetch_once(self, media: plan.Media) -> bool:
        if self.cache.has_media(media.sha256):
            return True
        try:
            self.cache.store_media(media.sha256, self.client.download(media.url))
            log.info("fetched %s", media.sha256[:12])
            return True
        except (ServerUnreachable, TokenRefused, MediaCorrupt, OSError) as exc:
            log.warning("could not fetch %s: %s", media.sha256[:12], exc)
            return False

    def _fetch_urgent(self) -> None:
        now = self.clock()
        with self._lock:
            urgent = [i for i in self._items.values() if i.urgent]
        for media in plan.downloads(urgent, now, set()):
            self._fetch(media)

    def _download_loop(self) -> None:
        while not self._stopping.is_set():
            self._fetch_now.wait(self.poll_s)
            self._fetch_now.clear()
            now = self.clock()
            with self._lock:
                items = list(self._items.values())
            for media in plan.downloads(items, now, set()):
                if self._stopping.is_set():
                    return
                if not self._fetch(media) and not self.online:
                    break  # no server: the next sync wakes us again
            self.cache.prune(plan.needed(items, self.clock()))

    # -- airing ---------------------------------------------------------------------
    def _air(self, item_id: str) -> None:
        with self._lock:
            item = self._items.get(item_id)
            if item is None or item_id in self._handed or self._stopping.is_set():
                return
        path = None
        if item.media:
            media = item.media[0]
            if not self._fetch(media):
                self._log(
                    item.id,
                    item,
                    "failed",
                    None,
                    None,
                    "the media is not in the cache and could not be fetched",
                )
                return
            path = self.cache.media_path(media.sha256)
        with self._lock:
            cue = plan.cue_for(item, self.clock(), path, self._not_before.get(item.id))
            if cue is None:
                why = plan.missed_reason(item, self.clock())
                self._log(item.id, item, "missed", None, None, why)
                return
            # At most one thing airs: a higher item holds this one back until it is over
            # (it then joins in progress); this one holds back any lower item due inside it.
            blockers = [
                h
                for h in self._handed.values()
                if h.item.rank > item.rank and h.cue.end > cue.start
            ]
            if blockers:
                self._defer(item, max(h.cue.end for h in blockers) + GRACE)
                return
            for other in self._handed.values():
                if other.item.rank >= item.rank:
                    continue
                if cue.start <= other.cue.start < cue.end + GRACE:
                    other.deferred = True
                    self._not_before[other.item.id] = cue.end + GRACE
                    self.player.cut(other.item.id, other.cue.start)  # un-cue it
                elif other.cue.start < cue.start < other.cue.end:
                    other.cut_for = other.cut_for or item  # on air now: it ends where this starts
                    self.player.cut(other.item.id, cue.start)
            self._not_before.pop(item.id, None)
            self._handed[item.id] = _Handed(item, cue)
        if item.on_receipt:
            self._started[item.id] = cue.start
        # Air first: a cache disk that refuses the "on air" mark must not keep it off air.
        self._disk(lambda: self.cache.set_airing(item.id, cue.start))
        log.info(
            "cue %s: %s at %s (from %.1f s)",
            item.id,
            item.title,
            cue.start.astimezone().strftime("%H:%M:%S.%f")[:-3],
            cue.offset_s,
        )
        self.player.play(cue)
        self._beat_at(cue.start + timedelta(seconds=0.5))  # the panel shows it on air

    def _defer(self, item: Item, until: datetime) -> None:
        """Arm ``item`` again for when a higher item is over; it joins in progress then."""
        self._not_before[item.id] = until
        log.info("%s held back until %s by a higher-priority item", item.id, until)
        self.scheduler.add_job(
            self._air,
            "date",
            run_date=max(until - self.lead, self.clock()),
            id=item.id,
            args=[item.id],
            replace_existing=True,
        )

    def _release_held(self, done: Item) -> None:
        """Items held back behind ``done`` may go on as soon as it is really over (its window
        was only an upper bound)."""
        soon = self.clock() + GRACE
        for item_id, until in list(self._not_before.items()):
            item = self._items.get(item_id)
            if item is None or item.rank >= done.rank or until <= soon:
                continue
            if any(h.deferred for h in self._handed.values() if h.item.id == item_id):
                self._not_before[item_id] = soon  # re-armed when its un-cueing reports
            else:
                self._defer(item, soon)

    def _on_done(self, outcome: CueResult) -> None:
        with self._lock:
            handed = self._handed.pop(outcome.item_id, None)
            if handed is not None and handed.deferred:
                self._defer(handed.item, self._not_before[handed.item.id])
                return
            if handed is not None:
                self._release_held(handed.item)
        item = handed.item if handed else self._items.get(outcome.item_id)
        status, detail = outcome.status, outcome.detail
        if handed is not None and handed.cut_for is not None and status != "failed":
            # Pre-empted: what aired up to the cut is the whole story the player knows.
            status = "interrupted"
            detail = f"pre-empted by {handed.cut_for.priority}: {handed.cut_for.title}"
        if handed is not None and status == "played" and handed.cue.media is not None:
            # A file cut short on disk (truncated after its check) ends before the item does:
            # that is not "played", and the log says how much was heard. What was due: the
            # item's length less what a late join skipped, inside the cue's window (an
            # emergency's window has slack after it).
            heard = outcome.ended_at - (outcome.started_at or outcome.ended_at)
            given, planned = handed.cue, handed.item
            skipped = timedelta(seconds=given.offset_s - planned.offset_ms / 1000)
            due = min(given.end - given.start, planned.end - planned.start - skipped)
            if due - heard > SHORT_BY:
                status = "partial"
                detail = (
                    f"the media ended early: aired {heard.total_seconds():.2f} s of "
                    f"{due.total_seconds():.2f} s"
                )
        if handed is not None and status in ("played", "partial") and item is not None:
            late = handed.cue.offset_s - item.offset_ms / 1000
            if late > 1 and not item.urgent:
                status = "partial"
                detail = "; ".join(filter(None, [f"joined {late:.1f} s late", detail]))
        started, ended = outcome.started_at, outcome.ended_at
        aired = status in ("played", "partial", "interrupted") and started is not None
        record_id = self._log(outcome.item_id, item, status, started, ended, detail, held=aired)
        airing = self._disk(self.cache.airing, reading=True)
        if isinstance(airing, tuple) and airing[0] == outcome.item_id:
            self._disk(lambda: self.cache.set_airing(None))
        if aired and started is not None:
            cue = handed.cue if handed is not None else None
            with contextlib.suppress(RuntimeError):  # stopping: it goes without, next start
                self._proofs.submit(self._prove, record_id, cue, started, ended)
        self._upload_soon()
        self._beat_at(self.clock())

    def _prove(self, record_id: str, cue: Cue | None, started: datetime, ended: datetime) -> None:
        extra: dict[str, Any] = {}
        try:
            proof = prove(self.player, cue, started, ended)
            extra = proof.fields() if proof is not None else {}
        finally:
            if record_id in self._unsaved:
                self._unsaved[record_id].update(extra)
            elif not self._disk(lambda: self.cache.complete(record_id, extra)):
                # The disk kept the log held but refuses to let it go (it filled meanwhile):
                # send it from memory. The copy on disk is let go at the next start and
                # sent again; the server counts one id once.
                held = self._disk(lambda: self.cache.held_play(record_id), reading=True)
                if isinstance(held, dict):
                    self._unsaved[record_id] = {**held, **extra}
            self._upload_soon()

    def _upload_soon(self) -> None:
        with contextlib.suppress(JobLookupError):  # shutting down
            self.scheduler.modify_job("upload", next_run_time=self.clock())

    def _beat_at(self, when: datetime) -> None:
        """Send the next heartbeat early: what is on air changed."""
        with contextlib.suppress(JobLookupError):  # shutting down
            self.scheduler.modify_job("heartbeat", next_run_time=when)

    def playing(self) -> Item | None:
        with self._lock:
            now = self.clock()
            on_air = [h.item for h in self._handed.values() if h.cue.start <= now]
        return on_air[-1] if on_air else None

    # -- proof of play --------------------------------------------------------------
    def _log(
        self,
        item_id: str,
        item: Item | None,
        status: str,
        started_at: datetime | None,
        ended_at: datetime | None,
        detail: str | None,
        *,
        held: bool = False,
    ) -> str:
        """Queue a play log (``held``: until its proof is attached); return its id."""
        now = self.clock()
        scheduled = item.scheduled_start if item is not None else (started_at or now)
        record = {
            "id": str(uuid.uuid4()),
            "item": item_id,
            "broadcast": item.broadcast if item is not None else None,
            "scheduled_start": scheduled.isoformat(),
            "started_at": _iso(started_at),
            "ended_at": _iso(ended_at or (now if started_at else None)),
            "status": status,
            "detail": detail,
        }
        if item_id in self._received:
            record["alert_received_at"] = self._received[item_id].isoformat()
            self._reported.add(item_id)
        if not self._disk(lambda: self.cache.queue_play(record, now, held=held)):
            self._unsaved[str(record["id"])] = record  # uploaded from memory instead
        log.info(
            "%s %s: %s%s",
            status,
            item_id,
            item.title if item else "?",
            f" ({detail})" if detail else "",
        )
        return str(record["id"])

    def _upload(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now < self._next_upload:
            return
        if self._unsaved and not self._send(list(self._unsaved.values())[:UPLOAD_BATCH], now):
            return
        while (
            batch := self._disk(lambda: self.cache.unsent_plays(UPLOAD_BATCH), reading=True) or []
        ):
            try:
                accepted, duplicates = self.client.send_plays(batch)
            except (ServerUnreachable, TokenRefused, ValueError) as exc:
                self.online = not isinstance(exc, ServerUnreachable) and self.online
                self._backoff_s = min(MAX_BACKOFF_S, max(5.0, self._backoff_s * 2))
                self._next_upload = now + timedelta(seconds=self._backoff_s)
                log.warning("play logs kept for later (retry in %.0f s): %s", self._backoff_s, exc)
                return
            self._disk(lambda: self.cache.mark_sent([r["id"] for r in batch], self.clock()))
            self._backoff_s = 0.0
            log.debug("uploaded %d play logs (%d already known)", accepted, duplicates)
            if force:
                break

    def _heartbeat(self) -> None:
        now = self.clock()
        item = self.playing()
        with self._lock:
            needed = plan.needed(self._items.values(), now)
        beat = {
            "agent_version": VERSION,
            "now": now.isoformat(),
            "playing": item.title if item else None,
            # When what is on air is due to end, so the panel can say how long it has left.
            "playing_until": item.end.isoformat() if item else None,
            "disk_free_bytes": self.cache.disk_free(),
            "cache_ok": all(self.cache.has_media(sha) for sha in needed),
            "disk_full": self.disk_full,
            "alerts": self._receipts(),
        }
        try:
            answer = self.client.heartbeat(beat)
        except (ServerUnreachable, TokenRefused, ValueError) as exc:
            log.debug("heartbeat not delivered: %s", exc)
            return
        self._server_back()
        server_time = datetime.fromisoformat(answer["server_time"])
        # Half the round trip is unknown; at commune-line latencies that is well under 1 s.
        self.clock_offset_ms = int((now - server_time).total_seconds() * 1000)
        if abs(self.clock_offset_ms) > 2000:
            log.warning(
                "this machine's clock is %+d ms off the server's: fix NTP", self.clock_offset_ms
            )

    def _receipts(self) -> list[dict[str, Any]]:
        """The alert airings held but not yet logged: received when, on air since when."""
        with self._lock:
            receipts = []
            for item_id, received in self._received.items():
                item = self._items.get(item_id)
                if item is None or item.broadcast is None or item_id in self._reported:
                    continue
                started = self._started.get(item_id)
                receipts.append(
                    {
                        "item": item_id,
                        "broadcast": item.broadcast,
                        "scheduled_start": item.scheduled_start.isoformat(),
                        "received_at": received.isoformat(),
                        "started_at": started.isoformat() if started else None,
                    }
                )
            return receipts

    def _send(self, batch: list[dict[str, Any]], now: datetime) -> bool:
        """Upload logs kept in memory (the disk refused them); False while the server is away."""
        try:
            self.client.send_plays(batch)
        except (ServerUnreachable, TokenRefused, ValueError) as exc:
            self._backoff_s = min(MAX_BACKOFF_S, max(5.0, self._backoff_s * 2))
            self._next_upload = now + timedelta(seconds=self._backoff_s)
            log.warning("play logs kept in memory for later: %s", exc)
            return False
        for record in batch:
            self._unsaved.pop(str(record["id"]), None)
        return True

    def _server_back(self) -> None:
        """The server answered: logs waiting out an upload back-off go now, not in minutes."""
        if self._backoff_s or self._next_upload > self.clock():
            self._backoff_s = 0.0
            self._next_upload = datetime.min.replace(tzinfo=UTC)
            self._upload_soon()

    def _disk(self, operation: Callable[[], Any], *, reading: bool = False) -> Any:
        """Run a cache operation; when the disk refuses (full, failing), say so in the
        heartbeat and return False instead of raising: airing never waits on the disk. A
        write that goes through again clears the alarm (a read proves nothing)."""
        try:
            result = operation()
        except DISK_ERRORS as exc:
            if not self.disk_full:
                log.error("the cache disk refused a write (%s): airing goes on from memory", exc)
            self.disk_full = True
            return False
        if not reading:
            self.disk_full = False
        return True if result is None else result

    def _logged_items(self, *, settled: bool = False) -> set[str]:
        on_disk = self._disk(lambda: self.cache.logged_items(settled=settled), reading=True)
        on_disk = on_disk if isinstance(on_disk, set) else set()
        in_memory = {
            r["item"] for r in self._unsaved.values() if not settled or r["status"] != "interrupted"
        }
        return set(on_disk) | in_memory

    def _mark_progress(self) -> None:
        now = self.clock()
        with self._lock:
            on_air = any(h.cue.start <= now for h in self._handed.values())
        if on_air:
            self._disk(lambda: self.cache.mark_progress(now))

    # -- MQTT -----------------------------------------------------------------------
    def _start_mqtt(self, url: str) -> None:
        parts = urlparse(url)
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"loaxa-agent-{uuid.uuid4().hex[:12]}"
        )
        if parts.username:
            client.username_pw_set(parts.username, parts.password)
        if parts.scheme == "mqtts":
            client.tls_set()
        client.on_connect = lambda *_: self._subscribe()
        client.on_message = lambda *_: self.sync_soon()
        client.reconnect_delay_set(1, 30)
        client.connect_async(
            parts.hostname or "localhost", parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        )
        client.loop_start()
        self._mqtt = client

    def _subscribe(self) -> None:
        if self._mqtt is not None and self._mqtt.is_connected() and self._topics:
            self._mqtt.subscribe([(topic, 1) for topic in self._topics])
            # A message may have been missed while disconnected: catch up now.
            self.sync_soon()


def _preempting(items: Iterable[Item], cut: Item, at: datetime) -> Item | None:
    """The higher-priority item that starts where ``cut`` was cut short, if any."""
    slack = timedelta(seconds=2)  # an alert "now" is stamped to the second
    higher = [i for i in items if i.rank > cut.rank and i.start - slack <= at < i.end]
    return max(higher, key=lambda i: i.rank, default=None)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
