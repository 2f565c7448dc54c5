"""A live relay (tiếp âm): a source station's stream aired for a fixed window.

Relays are fallible, so (docs/architecture.md "Relays"):

1. The stream is opened ``relay_preroll_s`` before the window, so the first second is not
   lost; its gate keeps it silent until the start.
2. If the source is not live half a second before the start, the filler (a local file,
   looped) is started so it covers the start; it gives way, to the sample, at the first
   sample of the stream when the stream comes.
3. A drop (the server ends the stream, an error, no sound for ``CONNECT_TIMEOUT_S``, or a
   stall) lets what is buffered play out, then the filler airs from that instant, and the
   source is tried again every ``relay_retry_s`` while the window lasts.
4. At the end instant every gate closes, to the sample. The outcome's detail lists the
   actual on/off instants of the source and the filler's total.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

import vlc

from audio.player.base import Cue, Status, clock_time, span
from audio.player.deck import Deck
from audio.player.items import TOLERANCE_S, CueItem
from audio.player.latency import media_kind
from audio.player.loop import Timer

if TYPE_CHECKING:
    from audio.player.base import Studio

log = logging.getLogger(__name__)

FILLER_CHECK_S = 0.5  # how long before the start a dead source brings in the filler
CONNECT_TIMEOUT_S = 8.0  # connected but silent this long: try again
STALL_S = 0.3  # the stream's buffer ran dry this long ago: it stalled
WATCH_S = 0.25
MIN_ATTEMPT_S = 0.5  # no new attempt this close to the end
FILLER_MARGIN_S = 0.1  # a filler pass starts at least this early; its gate trims the excess
MAX_NOTES = 10  # breaks described in the outcome's detail (all are counted)


class RelayItem(CueItem):
    def __init__(self, studio: Studio, cue: Cue) -> None:
        super().__init__(studio, cue)
        self.attempts: list[Deck] = []
        self.current: Deck | None = None
        self.fillers: list[Deck] = []
        self.filling = False
        self.notes: list[str] = []
        self._next_filler: Timer | None = None
        self._filler_until = math.inf
        self._filler_margin = FILLER_MARGIN_S
        self._filler_ok = studio.filler is not None
        self._spare: Deck | None = None
        self._spare_ordered = False
        self._connecting = False
        self._watch: Timer | None = None
        self._spans: dict[str, list[tuple[float, float]]] = {"source": [], "filler": []}
        self._breaks = 0

    def begin(self) -> None:
        now = time.monotonic()
        if self.end <= now:
            return self.finish("failed", "its window was over before it could start")
        if self.studio.filler is not None:
            self.studio.pool.submit(self._warm_filler)
        self.at(max(now, self.start - self.studio.relay_preroll_s), self._connect)
        self.at(self.start - FILLER_CHECK_S, self._check_live)
        self.at(self.start, self.take_air)
        self._end_timer = self.at(self.end, self._at_end)
        self._watch = self.studio.loop.call_at(now + WATCH_S, self._watchdog)

    # -- the source --------------------------------------------------------------------------
    def _connect(self) -> None:
        if self.done or self.handing_over or self._connecting:
            return
        if time.monotonic() >= self.end - MIN_ATTEMPT_S:
            return
        self._connecting = True
        self.studio.pool.submit(self._new_source)

    def _new_source(self) -> None:  # on a worker thread: making a libvlc player takes ms
        studio = self.studio
        try:
            media = studio.instance.media_new(self.cue.stream_url)
            media.add_option(f":network-caching={studio.relay_caching_ms}")
            name = f"{self.cue.item_id} source #{len(self.attempts) + 1}"
            deck = Deck(studio, media, name, self._source_event, open_at=self.start)
        except Exception:
            log.exception("relay %s: no libvlc player for the source", self.cue.item_id)
            studio.loop.call_soon(self._connected, None)
            return
        studio.loop.call_soon(self._connected, deck)

    def _connected(self, deck: Deck | None) -> None:
        self._connecting = False
        if deck is None:
            self.at(time.monotonic() + self.studio.relay_retry_s, self._connect)
            return
        if self.done:
            deck.discard()
            return
        deck.tap.close_gate(self.end)
        self._settle()
        self.attempts.append(deck)
        self.current = deck
        deck.play()

    def _source_event(self, deck: Deck, kind: str) -> None:
        if self.done or deck is not self.current:
            return
        heard = deck.tap.arrived_at is not None
        if kind == "first" and deck.tap.first_at is not None:
            self._stop_filler(deck.tap.first_at)
        elif kind == "drain" or (kind == "end" and heard):
            self._dropped(deck, "the source ended the stream")
        elif kind == "end":
            self._dropped(deck, "no sound from the source")
        elif kind == "error":
            self._dropped(deck, "the stream broke" if heard else "could not reach the source")

    def _dropped(self, deck: Deck, why: str) -> None:
        """The source is gone: play out its buffer, fill the gap, try again later."""
        self.current = None
        now = time.monotonic()
        until = max(deck.tap.arrived_at or now, now)
        deck.tap.close_gate(until)
        deck.discard(when=until)
        self._breaks += 1
        if self._breaks <= MAX_NOTES:  # a source flapping for hours must not fill the log
            self.notes.append(f"{why} ({clock_time(self.studio.timebase.wall(now))})")
        log.info("relay %s: %s", self.cue.item_id, why)
        if until < self.end:
            self._start_filler(max(self.start, until))
        retry = now + self.studio.relay_retry_s
        if retry < self.end - MIN_ATTEMPT_S:
            self.at(retry, self._connect)

    def _check_live(self) -> None:
        tap = self.current.tap if self.current is not None else None
        if tap is None or tap.arrived_at is None or tap.arrived_at < time.monotonic():
            self._start_filler(self.start)

    def _watchdog(self) -> None:
        if self.done:
            return
        now, deck = time.monotonic(), self.current
        if deck is not None and deck.started is not None:
            arrived = deck.tap.arrived_at
            if arrived is None and now - deck.started > CONNECT_TIMEOUT_S:
                self._dropped(deck, f"no sound from the source after {CONNECT_TIMEOUT_S:.0f} s")
            elif arrived is not None and deck.captured and arrived < now - STALL_S:
                self._dropped(deck, "the stream stalled")
        self._watch = self.studio.loop.call_at(now + WATCH_S, self._watchdog)

    # -- the filler ---------------------------------------------------------------------------
    def _warm_filler(self) -> None:  # on a worker thread, well before it may be needed
        filler = self.studio.filler
        assert filler is not None
        if not filler.is_file():
            problem = f"filler missing: {filler}"
        elif self.studio.latency.dry_run(filler).error is not None:
            problem = f"filler unplayable: {filler.name}"
        else:
            media = self.studio.instance.media_new_path(str(filler))
            media.parse_with_options(vlc.MediaParseFlag.local, 2000)
            deadline = time.monotonic() + 3
            while media.get_parsed_status() == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            length = media.get_duration() / 1000
            media.release()
            self.studio.loop.call_soon(self._filler_ready, length)
            return
        self.studio.loop.call_soon(self._no_filler, problem)

    def _filler_ready(self, length: float) -> None:
        """Each pass starts early by a third of the filler's length (at most half a
        second): its gate trims that much, and a busy machine has that long to start it."""
        if length > 0:
            self._filler_margin = min(max(length / 3, FILLER_MARGIN_S), 0.5)
        self._order_spare()

    def _no_filler(self, problem: str) -> None:
        self._filler_ok = False
        self.filling = False
        self.notes.append(problem)

    def _order_spare(self) -> None:
        """Have a filler deck made ahead (on a worker), so a drop only has to press play."""
        if self.done or self._spare is not None or self._spare_ordered or not self._filler_ok:
            return
        self._spare_ordered = True
        self.studio.pool.submit(self._new_spare)

    def _new_spare(self) -> None:  # on a worker thread
        assert self.studio.filler is not None
        try:
            media = self.studio.instance.media_new_path(str(self.studio.filler))
            deck = Deck(self.studio, media, f"{self.cue.item_id} filler", self._filler_event)
        except Exception:
            log.exception("relay %s: no libvlc player for the filler", self.cue.item_id)
            return
        self.studio.loop.call_soon(self._spare_ready, deck)

    def _spare_ready(self, deck: Deck) -> None:
        self._spare_ordered = False
        if self.done:
            deck.discard()
        else:
            self._spare = deck

    def _start_filler(self, at: float) -> None:
        """Air the filler from ``at`` (looped) until the source is back."""
        if not self._filler_ok or (self.filling and self._filler_until > at):
            return
        if self._next_filler is not None:
            self._next_filler.cancel()
        self.filling, self._filler_until = True, math.inf
        self._filler_run(at)

    def _filler_run(self, at: float) -> None:
        """One pass of the filler, airing from ``at``: started a little early, and its gate
        opens at ``at``, so the hand-over is exact whatever libvlc's latency did."""
        filler = self.studio.filler
        if self.done or self.handing_over or not self.filling or filler is None:
            return
        if at >= min(self._filler_until, self.end):
            self.filling = False
            return
        begin = at - self.studio.latency.estimate(media_kind(filler)) - self._filler_margin
        if begin > time.monotonic() + 0.005:
            self._next_filler = self.at(begin, self._filler_run, at)
            return
        deck, self._spare = self._spare, None
        if deck is None:  # not made yet: make it here, late
            media = self.studio.instance.media_new_path(str(filler))
            deck = Deck(self.studio, media, f"{self.cue.item_id} filler", self._filler_event)
        deck.tap.open_gate(at)
        deck.tap.close_gate(min(self._filler_until, self.end))
        self._settle()
        self.fillers.append(deck)
        deck.play()
        self._order_spare()

    def _filler_event(self, deck: Deck, kind: str) -> None:
        if self.done or not self.filling or deck is not self.fillers[-1]:
            return
        filler = self.studio.filler
        assert filler is not None
        if kind == "drain" and deck.tap.end_at is not None:  # the next pass follows on
            self._filler_run(deck.tap.end_at)
        elif kind in ("end", "error") and deck.tap.arrived_at is None:
            self._no_filler(f"filler unplayable: {filler.name}")
        elif kind == "end" and not deck.captured:
            self._filler_run(time.monotonic())

    def _stop_filler(self, at: float) -> None:
        """The source airs again from ``at``: the filler airs up to there, not beyond."""
        if not self.filling:
            return
        self._filler_until = at
        for deck in self.fillers:
            deck.tap.close_gate(at)
            deck.discard(when=at)

    # -- the end --------------------------------------------------------------------------------
    def _at_end(self) -> None:
        if not self.handing_over:
            self._close_all(self.end)
            self._conclude(None, None)

    def interrupt(self, at: float, detail: str) -> None:
        self._close_all(at)
        self._conclude("interrupted", detail)

    def close_gates(self, at: float) -> None:
        self._close_all(at)

    def _close_all(self, at: float) -> None:
        for deck in self.attempts + self.fillers:
            deck.tap.close_gate(at)

    def _conclude(self, status: Status | None, why: str | None) -> None:
        """The outcome from what actually aired: the source's on/off instants, the filler."""
        wall = self.studio.timebase.wall
        lo, hi = self.start, self.end
        on = self._aired("source", lo, hi)
        filled = sum(b - a for a, b in self._aired("filler", lo, hi))
        source = sum(b - a for a, b in on)
        if status is None:
            if source >= hi - lo - TOLERANCE_S:
                status = "played"
            elif source > 0 or filled > 0:
                status = "partial"
            else:
                status = "failed"
        parts = [why] if why else []
        if on:
            times = ", ".join(f"{clock_time(wall(a))}–{clock_time(wall(b))}" for a, b in on)
            parts.append(f"source on {times} ({span(source)} of {span(hi - lo)})")
        else:
            parts.append("the source never aired")
        breaks = [n for n in self.notes if not n.startswith("filler")]
        if breaks:
            plural = "s" if self._breaks > 1 else ""
            more = "; …" if self._breaks > len(breaks) else ""
            parts.append(f"{self._breaks} break{plural}: " + "; ".join(breaks) + more)
        parts += [n for n in self.notes if n.startswith("filler")]
        if filled > 0:
            parts.append(f"filler {span(filled)}")
        intervals = on + self._aired("filler", lo, hi)
        started = min((a for a, _ in intervals), default=None)
        ended = max((b for _, b in intervals), default=None)
        self.finish(status, "; ".join(parts), started, ended)

    def _settle(self) -> None:
        """Fold the decks already let go into their on-air spans (a long relay with a
        short filler makes thousands of decks)."""
        for kind, decks in (("source", self.attempts), ("filler", self.fillers)):
            for deck in [d for d in decks if d.discarded and d is not self.current]:
                if deck.tap.first_at is not None and deck.tap.end_at is not None:
                    self._spans[kind].append((deck.tap.first_at, deck.tap.end_at))
                decks.remove(deck)

    def _aired(self, kind: str, lo: float, hi: float) -> list[tuple[float, float]]:
        """When the source (or the filler) was on air inside [lo, hi]."""
        decks = self.attempts if kind == "source" else self.fillers
        live = [(d.tap.first_at, d.tap.end_at) for d in decks]
        spans = self._spans[kind] + [(a, b) for a, b in live if a is not None and b is not None]
        return sorted((max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo))

    def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        spare = [self._spare] if self._spare is not None else []
        for deck in self.attempts + self.fillers + spare:
            deck.discard()
