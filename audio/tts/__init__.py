"""Text to speech: engines behind one interface, a sentence cache, and ``speak`` that
turns a bulletin into one WAV (docs/architecture.md "TTS")."""
