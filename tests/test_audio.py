import numpy as np
import pytest
import soundfile as sf
import torch

from course.audio import AudioError, check_waveform, load_audio, resample, to_mono, write_wav


def test_check_waveform_accepts_mono_float_tensor_and_int16():
    x = check_waveform(torch.zeros(1, 1600), 16000)
    assert x.shape == (1600,) and x.dtype == np.float32
    pcm = np.array([0, 16384, -32768], dtype=np.int16)
    np.testing.assert_allclose(check_waveform(pcm, 16000), [0.0, 0.5, -1.0])


@pytest.mark.parametrize("x, rate, match", [
    (np.zeros(1000), 44100, "44100 Hz but 16000 Hz.*resample"),
    (np.zeros((2, 1000)), 16000, "mono.*to_mono"),
    (np.zeros((1000, 2)), 16000, "mono.*to_mono"),
    (np.zeros(0), 16000, "empty"),
    (np.array([0.0, np.nan, 0.1]), 16000, "1 NaN or infinite"),
    (np.array([0.0, np.inf]), 16000, "NaN or infinite"),
])
def test_check_waveform_errors_say_what_to_do(x, rate, match):
    with pytest.raises(AudioError, match=match):
        check_waveform(x, rate)


def test_to_mono_and_resample():
    st = np.stack([np.ones(100), np.zeros(100)])
    np.testing.assert_allclose(to_mono(st), 0.5)
    np.testing.assert_allclose(to_mono(st.T), 0.5)
    tone = np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)
    y = resample(tone, 44100, 16000)
    assert y.shape == (16000,)
    # the 440 Hz tone survives: its spectrum peaks at 440 Hz
    assert abs(np.argmax(np.abs(np.fft.rfft(y))) - 440) <= 1


def test_load_audio_stereo_and_rate(tmp_path):
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.zeros((800, 2), np.float32), 16000)
    with pytest.raises(AudioError, match="2 channels.*convert=True"):
        load_audio(stereo)
    assert load_audio(stereo, convert=True).shape == (800,)
    cd = tmp_path / "cd.wav"
    sf.write(cd, np.zeros(4410, np.float32), 44100)
    with pytest.raises(AudioError, match="44100 Hz"):
        load_audio(cd)
    assert load_audio(cd, convert=True).shape == (1600,)
    with pytest.raises(AudioError, match="No audio file"):
        load_audio(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav file")
    with pytest.raises(AudioError, match="Cannot read"):
        load_audio(junk)


def test_write_wav_round_trip(tmp_path):
    x = (np.sin(np.arange(1600) / 7) * 0.5).astype(np.float32)
    write_wav(tmp_path / "a.wav", x)
    info = sf.info(tmp_path / "a.wav")
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    np.testing.assert_allclose(load_audio(tmp_path / "a.wav"), x, atol=1 / 32767)


def test_mix_at_snr_sets_the_ratio_and_refuses_what_has_no_ratio():
    from course.audio import AudioError, mix_at_snr

    rng = np.random.default_rng(0)
    speech = (0.1 * rng.normal(size=16000)).astype(np.float32)
    noise = rng.normal(size=4000)  # shorter: repeated to the speech's length
    for snr in (30.0, 10.0, 0.0):
        mixed = mix_at_snr(speech, noise, snr)
        residual = mixed.astype(np.float64) - speech
        assert mixed.shape == speech.shape
        assert 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(residual ** 2)) == \
            pytest.approx(snr, abs=0.01)
    with pytest.raises(AudioError, match="noise is empty or silent"):
        mix_at_snr(speech, np.zeros(100), 10)
    with pytest.raises(AudioError, match="speech is silent"):
        mix_at_snr(np.zeros(100), noise, 10)
