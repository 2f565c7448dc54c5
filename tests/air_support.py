"""Listening to what a station aired, for the player and on-air agent tests: the capture WAV
read back (``read_wav``, ``Air``: where each tone is on, to a millisecond or two), and a live
stream on 127.0.0.1 to relay (``LiveSource``)."""

from __future__ import annotations

import struct
import threading
import time
import wave
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from tests.audio_fixtures import RATE


@dataclass
class Air:
    """The capture WAV, read back: ``t(when)`` is where an instant falls in it (seconds)."""

    x: np.ndarray
    rate: int
    started_at: datetime

    def t(self, when: datetime) -> float:
        return (when - self.started_at).total_seconds()

    def tone(self, freq: float, window_s: float = 0.01) -> np.ndarray:
        """The amplitude of the sine at ``freq`` around every sample (complex demodulation,
        a ``window_s`` moving average)."""
        n = np.arange(len(self.x))
        z = self.x * np.exp(-2j * np.pi * freq * n / self.rate)
        k = int(window_s * self.rate)
        c = np.concatenate([[0], np.cumsum(z)])
        level = np.zeros(len(self.x))
        level[k // 2 : k // 2 + len(c) - k] = 2 * np.abs(c[k:] - c[:-k]) / k
        return level

    def spans(self, freq: float | None = None, min_s: float = 0.02) -> list[tuple[float, float]]:
        """Where the tone at ``freq`` (or any sound, when None) is on, in seconds."""
        if freq is None:  # sound: non-zero samples, a gap only where 5 ms are silent
            loud = np.flatnonzero(np.abs(self.x) > 30)
            if len(loud) == 0:
                return []
            breaks = np.flatnonzero(np.diff(loud) > 0.005 * self.rate)
            starts = np.concatenate([[loud[0]], loud[breaks + 1]])
            ends = np.concatenate([loud[breaks], [loud[-1]]]) + 1
        else:
            on = self.tone(freq) > 0.4 * 3277  # the fixtures' sines peak at 0.1 (3277)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
            starts, ends = edges[::2], edges[1::2]
        runs = [(a / self.rate, b / self.rate) for a, b in zip(starts, ends, strict=True)]
        return [(a, b) for a, b in runs if b - a >= min_s]

    def silent(self, lo: float, hi: float) -> bool:
        a, b = max(int(lo * self.rate), 0), min(int(hi * self.rate), len(self.x))
        return b <= a or bool(np.abs(self.x[a:b]).max() <= 30)


def read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        return (
            frames.reshape(-1, w.getnchannels())[:, 0].astype(float),
            w.getframerate(),
            w.getnchannels(),
        )


def bridged(spans: list[tuple[float, float]], gap_s: float) -> list[tuple[float, float]]:
    """Spans joined across gaps shorter than ``gap_s``: the pauses of speech, or a block the
    capture dropped on a busy machine (a 25 ms click) where that is not what is tested."""
    out: list[tuple[float, float]] = []
    for a, b in spans:
        if out and a - out[-1][1] < gap_s:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


class LiveSource:
    """A station's live stream on 127.0.0.1, paced in real time like an encoder's: each
    listener joins the programme mid-way and first gets half a second at once (an encoder's
    buffer; Icecast's burst-on-connect is bigger). ``drop_after`` ends every connection
    after that many seconds (a flaky uplink)."""

    def __init__(self, body: bytes, bytes_per_s: int, kind: str, header: bytes = b"") -> None:
        self.body, self.bytes_per_s, self.header = body, bytes_per_s, header
        self.drop_after: float | None = None
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.end_headers()
                source.serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/live"

    @classmethod
    def mp3(cls, path: Path, bitrate: int = 64000) -> LiveSource:
        return cls(path.read_bytes(), bitrate // 8, "audio/mpeg")

    @classmethod
    def pcm(cls, freq: float, seconds: int = 10) -> LiveSource:
        """16-bit mono WAV with an endless data chunk: every sample exact, so hand-overs
        can be checked to the sample (an MP3 joined mid-way starts with a few silent frames
        while its decoder's bit reservoir fills)."""
        n = np.arange(RATE * seconds)
        body = (3277 * np.sin(2 * np.pi * freq * n / RATE)).astype("<i2").tobytes()
        fmt = struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
        endless = struct.pack("<I", 0xFFFFFFFF)
        header = b"RIFF" + endless + b"WAVEfmt " + fmt + b"data" + endless
        return cls(body, RATE * 2, "audio/wav", header)

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        began, sent = time.monotonic(), 0
        burst, skip = self.bytes_per_s // 2, 5 * self.bytes_per_s
        try:
            handler.wfile.write(self.header)
            while self.drop_after is None or time.monotonic() - began < self.drop_after:
                due = (burst + int((time.monotonic() - began) * self.bytes_per_s)) // 2 * 2
                at = (skip + sent) % len(self.body)
                chunk = self.body[at : at + due - sent]
                handler.wfile.write(chunk)
                handler.wfile.flush()
                sent += len(chunk)
                time.sleep(0.02)
        except OSError:
            return

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
