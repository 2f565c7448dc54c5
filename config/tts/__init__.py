"""Bundled TTS data: the abbreviation dictionary read by audio.tts.normalize_vi."""
