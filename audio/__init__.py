"""Audio: ingest pipeline, TTS, rendering and the station player (issues #3 and #4)."""
