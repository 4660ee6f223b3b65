"""Speech-like audio encoded with PyAV (FFmpeg's encoders), and the duration of uploaded audio.

`synthesize(SpeechRecipe(text="Hello there.", voice="alloy", format="mp3"))` gives MP3 bytes:
one voiced tone burst per syllable (pitch from the voice and the word), a short gap between
words and a longer one after punctuation, so the length follows the text and `speed` as a
speaker's would (`speech_seconds`). Muxers and encoders run bit-exact, so the bytes are the
same on every run (no random Ogg serial numbers, no encoder version strings).
"""

from __future__ import annotations

import io
import re
from fractions import Fraction

import av
import numpy as np

from mockserver.core import ids
from mockserver.media.recipes import SpeechRecipe

SAMPLE_RATE = 24_000  # OpenAI's speech is 24 kHz mono (its `pcm` is raw s16le at this rate)

# Format → (container, codec, sample format of the encoder's frames).
ENCODINGS: dict[str, tuple[str, str, str]] = {
    "mp3": ("mp3", "libmp3lame", "s16p"),
    "opus": ("ogg", "libopus", "s16"),
    "aac": ("adts", "aac", "fltp"),
    "flac": ("flac", "flac", "s16"),
    "wav": ("wav", "pcm_s16le", "s16"),
}
ENCODER_OPTIONS: dict[str, dict[str, str]] = {
    "libmp3lame": {"compression_level": "9"},
    "libopus": {"compression_level": "0"},
    # FFmpeg's own AAC encoder at a constant bitrate searched its quantisers for ~4 ms a
    # second of speech (100 words: ~140 ms); in its VBR mode at `-q:a 1` (global_quality is in
    # lambda units, 118 a step) ~1.5 ms, the decoded speech still the same waveform.
    "aac": {"aac_coder": "fast", "flags": "+qscale", "global_quality": "118"},
    "flac": {"compression_level": "0"},
}
CONTENT_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}

# A speaker's pace at speed 1.0: ~150 words a minute.
SYLLABLE_SECONDS = 0.15
WORD_GAP_SECONDS = 0.08
PAUSE_SECONDS = 0.3  # after , . ; : ! ?
VOICE_PITCH = {
    "alloy": 180.0,
    "ash": 120.0,
    "ballad": 150.0,
    "coral": 210.0,
    "echo": 110.0,
    "fable": 160.0,
    "nova": 220.0,
    "onyx": 95.0,
    "sage": 190.0,
    "shimmer": 230.0,
    "verse": 140.0,
}
_VOWEL_GROUPS = re.compile(r"[aeiouyàâäéèêëîïôöùûü]+", re.IGNORECASE)


def syllables(word: str) -> int:
    """A rough count: vowel groups, at least one per word."""
    return max(1, len(_VOWEL_GROUPS.findall(word)))


def plan(text: str, speed: float) -> list[tuple[str, float, float]]:
    """(word, seconds voiced, seconds of silence after) for each word, at `speed`."""
    out = []
    for word in text.split():
        voiced = syllables(word) * SYLLABLE_SECONDS / speed
        gap = (PAUSE_SECONDS if word[-1] in ",.;:!?" else WORD_GAP_SECONDS) / speed
        out.append((word, voiced, gap))
    return out


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long `synthesize` speaks `text` (a silent half second when there are no words)."""
    planned = plan(text, speed)
    return sum(voiced + gap for _, voiced, gap in planned) if planned else 0.5


def samples(recipe: SpeechRecipe) -> np.ndarray:
    """The speech as 16-bit mono samples at `SAMPLE_RATE`."""
    base = VOICE_PITCH.get(recipe.voice, 170.0)
    pieces: list[np.ndarray] = []
    for word, voiced, gap in plan(recipe.text, recipe.speed):
        count = syllables(word)
        each = int(voiced * SAMPLE_RATE) // count
        pitch_seed = ids.seed_for(f"{recipe.seed}:{recipe.voice}:{word.lower()}", "pitch")
        for index in range(count):
            # Pitch wanders within ±25% of the voice's, per word and syllable.
            step = ((pitch_seed >> (index * 5)) & 31) / 31
            pieces.append(_syllable(each, base * (0.75 + 0.5 * step)))
        pieces.append(np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32))
    if not pieces:
        pieces.append(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))
    signal = np.concatenate(pieces)
    pcm: np.ndarray = (signal * 12_000).astype(np.int16)
    return pcm


def _syllable(length: int, pitch: float) -> np.ndarray:
    """A voiced burst: a fundamental with two formant-like harmonics under a smooth envelope."""
    t = np.arange(length, dtype=np.float32) / SAMPLE_RATE
    phase = 2 * np.pi * pitch * t
    tone = np.sin(phase) + 0.5 * np.sin(3 * phase) + 0.25 * np.sin(5 * phase)
    envelope = np.sin(np.linspace(0, np.pi, length, dtype=np.float32)) ** 2
    burst: np.ndarray = (tone * envelope / 1.75).astype(np.float32)
    return burst


def synthesize(recipe: SpeechRecipe) -> bytes:
    pcm = samples(recipe)
    if recipe.format == "pcm":
        return pcm.astype("<i2").tobytes()
    return encode(pcm, recipe.format)


def encode(pcm: np.ndarray, fmt: str) -> bytes:
    container_format, codec, sample_format = ENCODINGS[fmt]
    out = io.BytesIO()
    with av.open(
        out, "w", format=container_format, container_options={"fflags": "+bitexact"}
    ) as container:
        # The encoders' fastest settings: the speech is synthetic, its fidelity moot.
        options = ENCODER_OPTIONS.get(codec, {})
        stream = container.add_stream(codec, rate=SAMPLE_RATE, layout="mono", options=options)
        assert isinstance(stream, av.AudioStream)
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        stream.time_base = Fraction(1, SAMPLE_RATE)
        # Fixed-size frames for the encoders that need them; 4096 samples for the others.
        frame_size = stream.codec_context.frame_size or 4096
        # Frames made in the encoder's own sample format (mono: planar and packed are the
        # same bytes), so nothing is resampled.
        if sample_format == "fltp":
            data: np.ndarray = pcm.astype(np.float32) / 32768
        else:
            data = pcm
        for start in range(0, len(data), frame_size):
            chunk = data[start : start + frame_size]
            if len(chunk) < frame_size and codec in ("libopus", "aac", "libmp3lame"):
                chunk = np.pad(chunk, (0, frame_size - len(chunk)))  # the last, padded
            frame = av.AudioFrame.from_ndarray(
                chunk.reshape(1, -1), format=sample_format, layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def duration_of(data: bytes) -> float:
    """Seconds of audio in an uploaded file of any format FFmpeg reads: the decoded samples
    counted. ValueError when it is no audio."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            stream = container.streams.audio[0]
            total = 0
            rate = stream.codec_context.sample_rate or SAMPLE_RATE
            for frame in container.decode(stream):
                total += frame.samples
                rate = frame.sample_rate or rate
            return total / rate
    except av.FFmpegError as error:
        raise ValueError(str(error)) from None
