"""A cue inside the :class:`~audio.player.vlc_player.VlcPlayer`, from play() to its outcome.

Every method runs on the player's loop. Instants are monotonic seconds. A file is:

1. prepared on a worker thread — parsed (does it hold audio?), dry-run for its start
   latency (:mod:`audio.player.latency`), and given a deck;
2. started at ``start − latency``, so its first sample is due at ``start``; a late start
   seeks by the lateness, so what airs at any instant is what the plan said;
3. put on air at ``start`` (whatever aired before is interrupted there);
4. ended by its media (the tap reports the last sample's instant), by ``end`` or a cut
   (the gate closes to the sample), or by an interruption.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import vlc

from audio.player.base import Cue, CueResult, Status, span
from audio.player.deck import Deck, DeviceTap
from audio.player.latency import media_kind
from audio.player.loop import Timer

if TYPE_CHECKING:
    from audio.player.base import Studio

log = logging.getLogger(__name__)

TOLERANCE_S = 0.05  # a media end this close past the window's end still counts as played
PARSE_TIMEOUT_S = 5.0
DRY_RUN_MARGIN_S = 0.2  # dry runs stop this long before the start is due
HANDOVER_S = 0.25  # a pre-empted item airs on until the next one's first sample, this long at most


class CueItem:
    """What every kind of cue shares: its window, timers, and the single outcome."""

    def __init__(self, studio: Studio, cue: Cue) -> None:
        self.studio, self.cue = studio, cue
        self.start = studio.timebase.mono(cue.start)
        self.end = studio.timebase.mono(cue.end)
        self.cut_at: float | None = None
        self.done = False
        self.on_air = False
        self.handing_over = False
        self._timers: list[Timer] = []
        self._end_timer: Timer | None = None  # armed once the item knows its start

    def at(self, when: float, fn: Callable[..., object], *args: object) -> Timer:
        """A timer that dies with the item."""
        if len(self._timers) > 64:  # a long relay sets thousands: forget the spent ones
            now = time.monotonic()
            self._timers = [t for t in self._timers if t.when > now and not t.cancelled]
        timer = self.studio.loop.call_at(when, fn, *args)
        self._timers.append(timer)
        return timer

    def begin(self) -> None:
        raise NotImplementedError

    def cut(self, at: float) -> None:
        """End at ``at`` instead (the next item starts there); before its start: never air."""
        if at >= self.end or self.handing_over:
            return
        self.cut_at = self.end = at
        now = time.monotonic()
        if at <= self.start and self.start > now:
            return self.finish("interrupted", "cut before its start")
        self.close_gates(max(at, now))
        if self._end_timer is not None:  # not armed yet: it will be, at the new end
            self._end_timer.cancel()
            self._end_timer = self.at(max(at, now), self._at_end)

    def _at_end(self) -> None:
        raise NotImplementedError

    def interrupt(self, at: float, detail: str) -> None:
        raise NotImplementedError

    def close_gates(self, at: float) -> None:
        raise NotImplementedError

    def take_air(self) -> None:
        self.studio.take_air(self)

    def pre_empt(self, at: float, by: str) -> None:
        """The next item starts at ``at``. With a capture, this one airs on until the next
        one's first sample closes its gate (so a start a few ms late leaves no silence), for
        ``HANDOVER_S`` at most; then it is interrupted. Without one, it stops at ``at``."""
        detail = f"pre-empted by {by}"
        if self.studio.capture is None:
            return self.interrupt(at, detail)
        last = at + HANDOVER_S
        self.handing_over = True
        self.close_gates(last)
        self.at(last, self.interrupt, last, detail)

    def finish(
        self,
        status: Status,
        detail: str | None,
        started: float | None = None,
        ended: float | None = None,
    ) -> None:
        if self.done:
            return
        self.done = True
        for timer in self._timers:
            timer.cancel()
        self.release()
        now = time.monotonic()
        base = self.studio.timebase
        ended = now if ended is None else ended
        if started is not None:
            ended = max(ended, started)
        self.studio.forget(self)
        self.studio.notify.send(
            CueResult(
                self.cue.item_id,
                status,
                base.wall(started) if started is not None else None,
                base.wall(ended),
                detail,
            )
        )

    def release(self) -> None:
        """Let go of every deck."""


class FileItem(CueItem):
    def __init__(self, studio: Studio, cue: Cue) -> None:
        super().__init__(studio, cue)
        self.deck: Deck | None = None
        self.duration: float | None = None
        self.latency = 0.0
        self.offset = cue.offset_s

    # 1. prepare
    def begin(self) -> None:
        path = self.cue.media
        if path is None:
            return self.finish("failed", "the cue has neither media nor a stream")
        if not path.is_file():
            return self.finish("failed", f"media missing: {path}")
        if self.end <= time.monotonic():
            return self.finish("failed", "its window was over before it could start")
        self.studio.pool.submit(self._prepare)

    def _prepare(self) -> None:  # on a worker thread
        assert self.cue.media is not None
        studio, path = self.studio, self.cue.media
        try:
            media = studio.instance.media_new_path(str(path))
            media.parse_with_options(vlc.MediaParseFlag.local, int(PARSE_TIMEOUT_S * 1000))
            deadline = time.monotonic() + PARSE_TIMEOUT_S + 1
            while media.get_parsed_status() == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            tracks = [t for t in media.tracks_get() or () if t.type == vlc.TrackType.audio]
            if not tracks:
                media.release()
                error = f"undecodable: libvlc finds no audio in {path.name}"
                studio.loop.call_soon(self.finish, "failed", error)
                return
            duration = media.get_duration() / 1000 or None
            kind = media_kind(path)
            deadline = self.start - studio.latency.estimate(kind) - DRY_RUN_MARGIN_S
            trial = studio.latency.dry_run(path, self.cue.offset_s, deadline)
            if trial.error is not None:
                media.release()
                studio.loop.call_soon(self.finish, "failed", f"undecodable: {trial.error}")
                return
            deck = Deck(studio, media, self.cue.item_id, self._event, close_at=self.end)
            studio.loop.call_soon(self._ready, deck, duration, studio.latency.estimate(kind))
        except Exception as exc:
            log.exception("preparing %s failed", path)
            studio.loop.call_soon(self.finish, "failed", f"could not prepare: {exc}")

    def _ready(self, deck: Deck, duration: float | None, latency: float) -> None:
        if self.done:
            deck.discard()
            return
        self.duration, self.latency, self.deck = duration, latency, deck
        deck.tap.close_gate(self.end)  # a cut may have come while it was prepared
        self.studio.starts[id(self)] = self.start - latency
        self.at(self.start - latency, self._go)
        self.at(self.start, self.take_air)
        self._end_timer = self.at(self.end, self._at_end)

    # 2. start
    def _go(self) -> None:
        assert self.deck is not None
        now = time.monotonic()
        late = max(0.0, now + self.latency - self.start)
        self.offset = self.cue.offset_s + (0.0 if self.cue.from_top else late)
        if self.duration is not None and self.offset >= self.duration - TOLERANCE_S:
            return self.finish("failed", "joined after the media's end")
        if self.offset > 0:
            self.deck.media.add_option(f":start-time={self.offset:.3f}")
        self.deck.play(expected_first=max(now + self.latency, self.start))
        self.studio.starts.pop(id(self), None)

    # 4. end
    def _event(self, deck: Deck, kind: str) -> None:
        if self.done:
            return
        tap = deck.tap
        if kind == "first" and deck.captured and deck.started is not None:
            assert tap.first_at is not None and self.cue.media is not None
            took = tap.first_at - deck.started
            self.studio.latency.observe(media_kind(self.cue.media), took)
            log.debug(
                "%s: first sample %+.1f ms from its start (lead %.1f ms, libvlc took %.1f ms)",
                self.cue.item_id,
                (tap.first_at - self.start) * 1e3,
                self.latency * 1e3,
                took * 1e3,
            )
        elif kind == "drain" and tap.end_at is not None:
            self.at(min(tap.end_at, self.end), self._media_end)
        elif kind in ("end", "error"):
            if tap.first_at is None:
                return self.finish("failed", "undecodable: libvlc could not play it")
            if kind == "error":
                return self._stopped("partial", "libvlc reported an error while playing")
            if isinstance(tap, DeviceTap) and self.duration is not None:
                # A sound card may still be playing its buffer: wait for the media's length.
                expected = tap.first_at + self.duration - self.offset
                tap.end_at = min(max(expected, time.monotonic()), self.end)
            self.at(min(tap.end_at or 0.0, self.end), self._media_end)

    def _media_end(self) -> None:
        """The media's last sample has been heard (if nothing cut it short)."""
        assert self.deck is not None
        tap = self.deck.tap
        if tap.end_at is not None and tap.end_at >= (tap.arrived_at or 0) - TOLERANCE_S:
            self.finish("played", None, tap.first_at, tap.end_at)

    def _at_end(self) -> None:
        """The window's end (or a cut): stop here, to the sample."""
        if self.done or self.deck is None or self.handing_over:
            return
        tap = self.deck.tap
        natural = tap.arrived_at if tap.drained else None  # where the media itself ends
        tap.close_gate(self.end)
        if tap.first_at is None:
            if self.cut_at is not None:
                return self.finish("interrupted", "cut before it aired")
            return self.finish("failed", "nothing aired before the window's end")
        if natural is not None and natural <= self.end + TOLERANCE_S:
            return self.finish("played", None, tap.first_at, min(natural, self.end))
        why = "cut" if self.cut_at is not None else "cut at its end"
        aired = span(self.end - tap.first_at)
        self.finish("partial", f"{why} after {aired}", tap.first_at, tap.end_at)

    def close_gates(self, at: float) -> None:
        if self.deck is not None:
            self.deck.tap.close_gate(at)

    def interrupt(self, at: float, detail: str) -> None:
        if self.deck is None:
            return self.finish("interrupted", detail)
        tap = self.deck.tap
        tap.close_gate(at)
        natural = tap.arrived_at if tap.drained else None
        if natural is not None and tap.end_at is not None and tap.end_at >= natural - TOLERANCE_S:
            return self.finish("played", None, tap.first_at, tap.end_at)  # it was over anyway
        self._stopped("interrupted", detail)

    def _stopped(self, status: Status, detail: str) -> None:
        assert self.deck is not None
        tap = self.deck.tap
        self.finish(status, detail, tap.first_at, tap.end_at)

    def release(self) -> None:
        if self.deck is not None:
            self.deck.discard()
