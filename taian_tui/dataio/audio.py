"""每日一听 as sound: a Mandarin voice, offline, encoded as MP3.

The voice is eSpeak NG's Mandarin (``cmn``), from ``espeakng-loader`` (the library and its
language data, installed from the package index alone), driven through eSpeak NG's C API
with ``ctypes``: synchronous synthesis, the samples handed to a callback. The samples go,
sentence by sentence, straight into ``lameenc`` (LAME): the PCM of a long text is never
held at once. Mono, 16 bit, at eSpeak's rate (22,050 Hz), MP3 at :data:`BIT_RATE` kbit/s.

eSpeak NG keeps one synthesiser per process: every synthesis takes :data:`_LOCK`, so two
builds in one process (two console workers) take turns instead of mixing their samples.
"""
from __future__ import annotations

import array
import ctypes
import threading
from dataclasses import dataclass
from typing import Callable

VOICE = "cmn"               # eSpeak NG's Mandarin
RATE_WPM = 165              # speaking rate (eSpeak's default is 175: a little slower for news)
SAMPLE_RATE = 22050         # eSpeak NG's output rate (Hz), mono, 16 bit
BIT_RATE = 48               # kbit/s: speech, mono
PAUSE_SECONDS = 0.35        # between sentences (eSpeak's own pause at 。 comes first)

#: Everything that makes the same sentences sound different: part of a build's hash.
SETTINGS = f"espeak-ng:{VOICE}:{RATE_WPM}wpm:mp3-{BIT_RATE}k:pause{PAUSE_SECONDS}"

_LOCK = threading.Lock()
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class VoiceUnavailable(RuntimeError):
    """eSpeak NG or its Mandarin data could not be loaded."""


@dataclass(frozen=True)
class Rendered:
    mp3: bytes
    sample_rate: int
    samples: int

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate


class _Engine:
    """The process's one eSpeak NG synthesiser (made on first use, under ``_LOCK``)."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as exc:
            raise VoiceUnavailable(f"eSpeak NG could not be loaded ({exc}): "
                                   "install the espeakng-loader package") from None
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0)
        if rate <= 0:
            raise VoiceUnavailable(f"eSpeak NG did not start (data in {data})")
        if lib.espeak_SetVoiceByName(VOICE.encode()) != 0:
            raise VoiceUnavailable(f"eSpeak NG has no {VOICE!r} (Mandarin) voice in {data}")
        lib.espeak_SetParameter(_ESPEAK_RATE, RATE_WPM, 0)
        self.lib = lib
        self.sample_rate = rate
        self.sink: Callable[[bytes], None] | None = None
        self._callback = _CALLBACK(self._samples)    # kept: eSpeak holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _samples(self, wav, count, _events) -> int:
        if wav and count > 0 and self.sink is not None:
            self.sink(ctypes.string_at(wav, count * 2))
        return 0

    def say(self, sentence: str) -> None:
        data = sentence.encode("utf-8")
        if self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _ESPEAK_CHARS_UTF8, None, None) != 0:
            raise VoiceUnavailable("eSpeak NG refused the text")
        self.lib.espeak_Synchronize()


_engine: _Engine | None = None


def render(sentences: list[str], progress: Callable[[int, int], None] | None = None) -> Rendered:
    """``sentences`` read by the Mandarin voice, as MP3 bytes. ``progress(done, total)``
    after each sentence."""
    import lameenc

    global _engine
    with _LOCK:
        if _engine is None:
            _engine = _Engine()
        engine = _engine
        rate = engine.sample_rate
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(BIT_RATE)
        encoder.set_in_sample_rate(rate)
        encoder.set_out_sample_rate(rate)
        encoder.set_channels(1)
        encoder.set_quality(2)
        chunks: list[bytes] = []
        count = 0

        def sink(pcm: bytes) -> None:
            nonlocal count
            count += len(pcm) // 2
            chunks.append(bytes(encoder.encode(pcm)))

        pause = array.array("h", bytes(int(rate * PAUSE_SECONDS) * 2)).tobytes()
        engine.sink = sink
        try:
            for i, sentence in enumerate(sentences, 1):
                engine.say(sentence)
                if i < len(sentences):
                    sink(pause)
                if progress is not None:
                    progress(i, len(sentences))
        finally:
            engine.sink = None
        chunks.append(bytes(encoder.flush()))
        return Rendered(b"".join(chunks), rate, count)
