"""course.attribution against captum (the reference library) and against hand-computed values.

Small models run everywhere: an MLP on vectors, a 1-D convolutional net on "waveforms" and a tiny randomly
initialised wav2vec 2.0 classifier (the shipped architecture, narrowed). The shipped intent model is used when
installed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import FeatureAblation, InputXGradient, IntegratedGradients, Occlusion, Saliency
from transformers import Wav2Vec2ForSequenceClassification

from course import attribution as A
from course.textgrid import Interval
from speech_course_tools.training import w2v2_config


def _mlp(seed: int = 0, d: int = 6, c: int = 4) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, c)).eval()


class _Conv(torch.nn.Module):
    """A waveform classifier in miniature: conv, GELU, mean over time, linear."""

    def __init__(self, seed: int = 0, c: int = 3) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv1d(1, 8, 5, stride=2)
        self.out = torch.nn.Linear(8, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.nn.functional.gelu(self.conv(x[:, None])).mean(-1))


def _tiny_w2v2() -> Wav2Vec2ForSequenceClassification:
    torch.manual_seed(0)
    cfg = w2v2_config(vocab_size=8)
    cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size = 2, 32, 2, 64
    cfg.conv_dim, cfg.num_conv_pos_embeddings, cfg.num_conv_pos_embedding_groups = (32,) * 7, 16, 4
    cfg.num_labels, cfg.classifier_proj_size = 5, 16
    return Wav2Vec2ForSequenceClassification(cfg).eval()


def _close(a, b, atol=1e-4):
    a = a.detach().numpy() if torch.is_tensor(a) else np.asarray(a)
    b = b.detach().numpy() if torch.is_tensor(b) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert np.allclose(a, b, atol=atol, rtol=1e-4), np.abs(a - b).max()


# --------------------------------------------------------------------------
# Gradient methods


@pytest.mark.parametrize("abs_", [True, False])
def test_saliency_matches_captum_and_keeps_the_sign_when_asked(abs_):
    model = _mlp()
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    ours = A.saliency(model, x, target=2, abs=abs_)
    _close(ours, Saliency(model).attribute(x, target=2, abs=abs_), 1e-6)
    assert not ours.requires_grad
    if not abs_:
        assert (ours < 0).any(), "the signed gradient has negative entries"


def test_input_x_gradient_matches_captum_with_per_example_targets():
    model = _Conv()
    x = torch.randn(3, 40, generator=torch.Generator().manual_seed(2))
    _close(A.input_x_gradient(model, x, target=[0, 2, 1]),
           InputXGradient(model).attribute(x, target=[0, 2, 1]), 1e-6)


def test_ig_steps_are_captums():
    from captum.attr._utils.approximation_methods import approximation_parameters

    for method in A.IG_METHODS:
        for n in (2, 5, 16):
            steps, alphas = approximation_parameters(method)
            a, w = A.ig_steps(n, method)
            assert np.allclose(a, alphas(n)) and np.allclose(w, steps(n)), (method, n)
    assert np.isclose(A.ig_steps(8, "riemann_trapezoid")[1].sum(), 7 / 8), "captum's trapezoid weights sum to (n-1)/n"
    assert np.isclose(A.ig_steps(7, "gausslegendre")[1].sum(), 1.0)
    with pytest.raises(ValueError):
        A.ig_steps(1, "riemann_left")
    with pytest.raises(ValueError):
        A.ig_steps(4, "simpson")


@pytest.mark.parametrize("method", A.IG_METHODS)
@pytest.mark.parametrize("n_steps", [3, 16])
def test_integrated_gradients_matches_captum(method, n_steps):
    model = _Conv(seed=1)
    gen = torch.Generator().manual_seed(3)
    x, base = torch.randn(2, 50, generator=gen), 0.3 * torch.randn(2, 50, generator=gen)
    ours, delta = A.integrated_gradients(model, x, base, target=[1, 0], n_steps=n_steps, method=method,
                                         return_convergence_delta=True)
    ref, ref_delta = IntegratedGradients(model).attribute(x, base, target=[1, 0], n_steps=n_steps, method=method,
                                                          return_convergence_delta=True)
    _close(ours, ref)
    _close(delta, ref_delta)


def test_integrated_gradients_batching_baselines_and_no_grad_context():
    model = _mlp(seed=2)
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(4))
    full = A.integrated_gradients(model, x, target=3, n_steps=9)
    with torch.no_grad():
        chunked = A.integrated_gradients(model, x, 0.0, 3, 9, internal_batch_size=5)
    _close(full, chunked, 1e-6)
    _close(full, IntegratedGradients(model).attribute(x, target=3, n_steps=9))
    _close(A.integrated_gradients(model, x, 0.5, target=1, n_steps=9),
           IntegratedGradients(model).attribute(x, 0.5, target=1, n_steps=9))
    avg = A.integrated_gradients(model, x, target=3, n_steps=9, multiply_by_inputs=False)
    _close(avg * x, full, 1e-6)


def test_integrated_gradients_is_exact_for_a_linear_model_and_complete_for_a_smooth_one():
    w = torch.randn(6, 3, generator=torch.Generator().manual_seed(5))
    x = torch.randn(2, 6, generator=torch.Generator().manual_seed(6))
    attr = A.integrated_gradients(lambda z: z @ w, x, target=1, n_steps=4)
    _close(attr, x * w[:, 1], 1e-6)
    model = _mlp(seed=3)
    _, delta = A.integrated_gradients(model, x, target=0, n_steps=64, return_convergence_delta=True)
    assert delta.abs().max() < 1e-4


def test_integrated_gradients_on_a_wav2vec2_classifier_and_its_cnn_features():
    model = _tiny_w2v2()
    x = torch.randn(1, 4000, generator=torch.Generator().manual_seed(7))
    ours = A.integrated_gradients(lambda z: model(z).logits, x, target=2, n_steps=6, internal_batch_size=3)
    ref = IntegratedGradients(lambda z: model(z).logits).attribute(x, target=2, n_steps=6)
    _close(ours, ref)
    features, head = A.feature_encoder_split(model)
    with torch.no_grad():
        feats, silence = features(x), features(torch.zeros_like(x))
        _close(head(feats), model(x).logits, 1e-5)
    attr, delta = A.integrated_gradients(head, feats, silence, target=2, n_steps=32, return_convergence_delta=True)
    assert attr.shape == feats.shape and delta.abs().max() < 1e-2


# --------------------------------------------------------------------------
# Perturbation methods


@pytest.mark.parametrize("window, stride", [((8,), (4,)), ((10,), (3,)), ((7,), (7,))])
def test_occlusion_matches_captum(window, stride):
    model = _Conv(seed=4)
    x = torch.randn(2, 45, generator=torch.Generator().manual_seed(8))
    ours = A.occlusion(model, x, window, stride, baselines=0.0, target=1, perturbations_per_eval=3)
    _close(ours, Occlusion(model).attribute(x, sliding_window_shapes=window, strides=stride, target=1), 1e-5)


def test_occlusion_in_two_dimensions_with_a_tensor_baseline():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(30, 2))
    x = torch.randn(1, 6, 5)
    base = torch.randn(1, 6, 5)
    ours = A.occlusion(model, x, (3, 5), (2, 5), baselines=base, target=0)
    ref = Occlusion(model).attribute(x, sliding_window_shapes=(3, 5), strides=(2, 5), baselines=base, target=0)
    _close(ours, ref, 1e-5)


def test_feature_ablation_matches_captum():
    model = _Conv(seed=5)
    x = torch.randn(2, 30, generator=torch.Generator().manual_seed(9))
    mask = torch.arange(30)[None] // 7
    _close(A.feature_ablation(model, x, mask, 0.1, target=2, perturbations_per_eval=2),
           FeatureAblation(model).attribute(x, baselines=0.1, target=2, feature_mask=mask), 1e-5)


def _captum_lime(model, x, mask, samples, base, target, kernel_width, alpha):
    """captum's Lime, given the same coalitions (replayed in order), kernel and linear model as course's lime."""
    from captum._utils.models.linear_model import SkLearnLinearRegression, SkLearnRidge
    from captum.attr import Lime
    from captum.attr._core.lime import get_exp_kernel_similarity_function

    replay = iter(samples)
    lime = Lime(model, interpretable_model=SkLearnRidge(alpha=alpha) if alpha else SkLearnLinearRegression(),
                similarity_func=get_exp_kernel_similarity_function("cosine", kernel_width),
                perturb_func=lambda *args, **kwargs: next(replay)[None])
    return lime.attribute(x, baselines=base, target=target, feature_mask=mask, n_samples=len(samples))


@pytest.mark.parametrize("alpha, kernel_width", [(0.0, 1.0), (0.5, 0.3)])
def test_lime_matches_captum_given_the_same_samples(alpha, kernel_width):
    model = _Conv(seed=7)
    x = torch.randn(1, 40, generator=torch.Generator().manual_seed(12))
    base = 0.1 * torch.randn(1, 40, generator=torch.Generator().manual_seed(13))
    mask = (torch.arange(40)[None] // 6)  # 7 groups
    ours = A.lime(model, x, mask, n_samples=60, baselines=base, target=1, kernel_width=kernel_width, alpha=alpha,
                  seed=3, perturbations_per_eval=7)
    ref = _captum_lime(model, x, mask, A.lime_samples(7, 60, 3), base, 1, kernel_width, alpha)
    _close(ours, ref, 1e-6)  # measured 1e-8, on coefficients up to 0.016
    for g in range(7):
        assert torch.unique(ours[mask == g]).numel() == 1, "a group's elements share its coefficient"
    unweighted = A.lime(model, x, mask, n_samples=60, baselines=base, target=1, kernel_width=1e6, alpha=alpha, seed=3)
    assert not torch.allclose(unweighted, ref, atol=1e-6, rtol=0), "the comparison sees the sample weights"


def test_lime_recovers_a_linear_model_exactly_and_refuses_bad_input():
    w = torch.tensor([3.0, -1.0, 0.0, 2.0])
    mask = torch.tensor([[0, 0, 1, 1, 2, 3, 3, 3]])
    group_sum = lambda z: torch.stack([z[:, mask[0] == g].sum(1) for g in range(4)], 1)  # noqa: E731
    model = lambda z: group_sum(z) @ w + 5.0  # noqa: E731
    x = torch.ones(1, 8)
    attr = A.lime(model, x, mask, n_samples=40, baselines=0.0)
    per_group = torch.stack([attr[0, mask[0] == g][0] for g in range(4)])
    expected = w * torch.tensor([2.0, 2.0, 1.0, 3.0])  # removing a group removes w_g times its elements
    _close(per_group, expected, 1e-6)
    _close(A.lime(model, x, mask, n_samples=40, seed=1), attr, 1e-6)  # exact whatever the samples
    conv, sig = _Conv(seed=8), torch.randn(1, 24, generator=torch.Generator().manual_seed(14))
    groups = torch.arange(24)[None] // 6
    assert not torch.allclose(A.lime(conv, sig, groups, 30, target=0, seed=0),
                              A.lime(conv, sig, groups, 30, target=0, seed=1)), \
        "on a model that is not linear in the groups, the answer depends on the samples"
    with pytest.raises(ValueError, match="batch of 1"):
        A.lime(model, torch.ones(2, 8), mask)
    with pytest.raises(ValueError, match="cannot fit 4 coefficients"):
        A.lime(model, x, mask, n_samples=4)
    assert torch.equal(A.lime_samples(4, 5, 0), A.lime_samples(4, 5, 0)) and \
        not torch.equal(A.lime_samples(4, 50, 0), A.lime_samples(4, 50, 1))


def test_word_spans_use_the_centre_convention_and_survive_float_noise():
    words = [Interval(0.509125, 0.606437, "my"), Interval(0.0, 0.00003, "x"), Interval(1.0, 1.5, "late")]
    spans = A.word_spans(words, 20000, 16000)
    assert spans[0] == range(8146, 9703)  # 0.509125 * 16000 = 8146.000000000001 and 0.606437 * 16000 = 9702.992
    assert spans[1] == range(0, 1), "a word shorter than a sample gets the sample holding its midpoint"
    assert spans[2] == range(16000, 20000), "clipped to the signal"
    assert A.word_spans([Interval(0.51, 0.57, "w")], 100, 50) == [range(25, 28)], "frames: course.frames convention"
    with pytest.raises(ValueError, match="after the end of the signal"):
        A.word_spans([Interval(2.0, 2.5, "gone")], 20000, 16000)  # 1.25 s of audio: this word is not in it


def test_word_ablation_matches_captum_feature_ablation_and_hand_values():
    w = torch.arange(1.0, 33.0)
    x = torch.ones(1, 32)
    words = [Interval(0.0, 0.0005, "a"), Interval(0.0005, 0.00125, "b")]  # samples 0-7 and 8-19
    drops = A.word_ablation(lambda z: (z * w).sum(1), x, words, 0.0, None, 16000)
    assert np.allclose(drops, [w[:8].sum(), w[8:20].sum()])
    model = _Conv(seed=6)
    sig = torch.randn(1, 64, generator=torch.Generator().manual_seed(10))
    base = 0.2 * torch.randn(1, 64, generator=torch.Generator().manual_seed(11))
    words = [Interval(0.0003, 0.0011, "u"), Interval(0.0013, 0.0029, "v")]
    mask = torch.full((1, 64), 2)
    for i, s in enumerate(A.word_spans(words, 64, 16000)):
        mask[0, s.start:s.stop] = i
    ref = FeatureAblation(model).attribute(sig, baselines=base, target=1, feature_mask=mask)
    ours = A.word_ablation(model, sig, words, base, 1)
    assert np.allclose(ours, [ref[0, 5].item(), ref[0, 21].item()], atol=1e-6)
    assert sig.shape == (1, 64) and torch.equal(sig, torch.randn(1, 64, generator=torch.Generator().manual_seed(10)))
    with pytest.raises(ValueError):
        A.word_ablation(model, sig.repeat(2, 1), words)


def test_word_ablation_on_frames_with_channels():
    feats = torch.randn(1, 20, 3, generator=torch.Generator().manual_seed(12))
    words = [Interval(0.05, 0.13, "w")]  # frames 2..5 at 50 per second
    drops = A.word_ablation(lambda z: z.sum((1, 2)), feats, words, 0.0, None, 50)
    assert np.isclose(drops[0], feats[0, 2:6].sum().item(), atol=1e-5)


def test_pool_to_words_and_features():
    a = np.arange(10.0)
    words = [Interval(0.0, 0.2, "a"), Interval(0.4, 0.9, "b")]
    assert np.allclose(A.pool_to_words(a, words, rate=10), [0 + 1, 4 + 5 + 6 + 7 + 8])
    assert np.allclose(A.pool_to_words(torch.tensor(a), words, 10, "mean"), [0.5, 6.0])
    assert np.allclose(A.pool_to_words(np.ones((10, 3)), words, 10), [6, 15]), "channels are summed"
    mask = A.chunk_mask(10, 4)
    assert mask.tolist() == [[0, 0, 0, 0, 1, 1, 1, 1, 2, 2]]
    assert np.allclose(A.pool_features(a[None], mask), [6, 22, 17])


# --------------------------------------------------------------------------
# Faithfulness


def _probability_model():
    """Logits [s, 0] with s = sum of 2-D inputs weighted by feature: probabilities are known in closed form."""
    return lambda z: torch.stack([z.sum(1), torch.zeros(len(z))], 1)


def test_comprehensiveness_and_sufficiency_by_hand():
    f = _probability_model()
    x = torch.tensor([[3.0, 1.0, 2.0, 0.5]])
    mask = torch.tensor([[0, 1, 2, 3]])
    scores = np.array([0.9, 0.1, 0.5, 0.0])
    sig = torch.sigmoid
    p = sig(torch.tensor(6.5)).item()
    comp = A.comprehensiveness(f, x, scores, mask, 0, fractions=(0.25, 0.5, 0.6))
    assert np.allclose(comp, [p - sig(torch.tensor(3.5)).item(), p - sig(torch.tensor(1.5)).item(),
                              p - sig(torch.tensor(0.5)).item()]), "top ceil(f * n) features removed"
    suff = A.sufficiency(f, x, scores, mask, 0, fractions=(0.25, 0.5))
    assert np.allclose(suff, [p - sig(torch.tensor(3.0)).item(), p - sig(torch.tensor(5.0)).item()])
    assert np.isclose(A.aopc(comp), comp.mean())
    fr, curve = A.deletion_curve(f, x, scores, mask, 0, fractions=[0, 0.5, 1])
    assert np.allclose(curve, [p, sig(torch.tensor(1.5)).item(), 0.5])
    ties = A.comprehensiveness(f, x, np.zeros(4), mask, 0, fractions=(0.25,))
    assert np.isclose(ties[0], p - sig(torch.tensor(3.5)).item()), "ties: the lower feature id goes first"


def test_insertion_curve_by_hand():
    f = _probability_model()
    x = torch.tensor([[3.0, 1.0, 2.0, 0.5]])
    mask = torch.tensor([[0, 1, 2, 3]])
    scores = np.array([0.9, 0.1, 0.5, 0.0])  # order: 0, 2, 1, 3
    sig = lambda v: 1 / (1 + np.exp(-v))
    fr, curve = A.insertion_curve(f, x, scores, mask, 0, fractions=[0, 0.25, 0.5, 0.75, 1])
    assert np.allclose(fr, [0, 0.25, 0.5, 0.75, 1])
    assert np.allclose(curve, sig(np.array([0.0, 3.0, 5.0, 6.0, 6.5]))), "only the top ceil(f * n) features kept"
    base = torch.tensor([[1.0, -1.0, 0.0, 2.0]])
    _, curve = A.insertion_curve(f, x, scores, mask, 0, fractions=[0, 0.5], baselines=base)
    assert np.allclose(curve, sig(np.array([2.0, 3.0 + -1.0 + 2.0 + 2.0]))), "the rest takes the baseline's values"
    _, ties = A.insertion_curve(f, x, np.zeros(4), mask, 0, fractions=[0.25])
    assert np.isclose(ties[0], sig(3.0)), "ties: the lower feature id goes first"
    suff = A.sufficiency(f, x, scores, mask, 0, fractions=(0.25, 0.5))
    assert np.allclose(sig(6.5) - suff, sig(np.array([3.0, 5.0]))), "insertion = p(x) - sufficiency"
    grouped = torch.tensor([[1, 0, 1, 0]])  # feature 0: elements 1 and 3; feature 1: elements 0 and 2
    _, curve = A.insertion_curve(f, x, np.array([0.2, 0.9]), grouped, 0, fractions=[0, 0.5, 1])
    assert np.allclose(curve, sig(np.array([0.0, 5.0, 6.5]))), "a feature inserts all of its elements at once"


def test_perturbation_curves_equal_the_single_curves_and_share_inputs():
    model = _Conv(seed=3)
    x = torch.randn(1, 48, generator=torch.Generator().manual_seed(5))
    base = torch.full((1, 48), -0.2)
    mask = A.chunk_mask(48, 8)  # 6 features
    rankings = {"a": np.array([0.5, 0.1, 0.9, 0.3, 0.0, 0.2]), "b": np.array([0.6, 0.1, 0.9, 0.3, 0.0, 0.2]),
                "c": -np.arange(6.0)}
    fractions = np.linspace(0, 1, 11)
    rows = []

    def counted(z):
        rows.append(len(z))
        return model(z)

    curves = A.perturbation_curves(counted, x, rankings, mask, 1, fractions, base, batch_size=4)
    for name, s in rankings.items():
        _, d = A.deletion_curve(model, x, s, mask, 1, fractions, base)
        _, i = A.insertion_curve(model, x, s, mask, 1, fractions, base)
        assert np.allclose(curves[name][0], d, atol=1e-6) and np.allclose(curves[name][1], i, atol=1e-6), name
    # a and b rank the features alike; deletion of all = insertion of none; k = ceil(f * 6) takes 7 values
    assert sum(rows) == len({frozenset(r) for r in _replaced_sets(rankings, fractions, 6)}) < 2 * 11 * 3
    assert max(rows) <= 4
    with pytest.raises(ValueError):
        A.perturbation_curves(model, x, {"a": np.zeros(6), "b": np.zeros(5)}, mask, 1)


def _replaced_sets(rankings, fractions, n):
    """Every set of replaced features the deletion and insertion curves of ``rankings`` need (for counting)."""
    for s in rankings.values():
        order = list(np.argsort(-s, kind="stable"))
        for f in fractions:
            k = int(np.ceil(round(f * n, 9)))
            yield order[:k]
            yield order[k:]


def test_faithfulness_with_a_tensor_baseline_and_chunks():
    model = _Conv(seed=7)
    x = torch.randn(1, 40, generator=torch.Generator().manual_seed(13))
    base = torch.full((1, 40), 0.3)
    mask = A.chunk_mask(40, 8)
    scores = np.array([0.1, 0.7, -0.2, 0.4, 0.0])
    comp = A.comprehensiveness(model, x, scores, mask, 2, fractions=(0.2, 0.4), baselines=base)
    y = x.clone()
    y[0, 8:16] = 0.3
    with torch.no_grad():
        p = torch.softmax(model(torch.cat([x, y])), -1)[:, 2]
    assert np.isclose(comp[0], (p[0] - p[1]).item(), atol=1e-6)


# --------------------------------------------------------------------------
# Sanity checks


def test_rank_correlation_is_spearman():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    b[:10] = b[0]  # ties
    assert np.isclose(A.rank_correlation(a, b), spearmanr(a, b).statistic)
    assert np.isclose(A.rank_correlation(torch.tensor(a), 3 * a + 1), 1.0)
    assert np.isnan(A.rank_correlation(np.ones(4), a[:4]))


def test_shipped_intent_model_split_at_the_cnn_features():
    from course.models import SHIPPED_DIR, load_model

    if not (SHIPPED_DIR / "tiny-w2v2-intent" / "config.json").is_file():
        pytest.skip("tiny-w2v2-intent is not installed")
    model, _ = load_model("tiny-w2v2-intent")
    x = torch.randn(1, 8000, generator=torch.Generator().manual_seed(14))
    features, head = A.feature_encoder_split(model)
    with torch.no_grad():
        _close(head(features(x)), model(x).logits, 1e-4)


# --------------------------------------------------------------------------
# slot_word_profile: the experiment behind notebook 07's comparison of methods


def _command(uid, speaker, durations, slot_words, slot="object"):
    """A stand-in utterance: words of the given durations, back to back, and the slot's word indices."""
    from types import SimpleNamespace

    ends = np.cumsum(durations)
    words = [Interval(float(e - d), float(e), f"w{k}") for k, (d, e) in enumerate(zip(durations, ends))]
    return SimpleNamespace(id=uid, speaker=speaker, words=words,
                           labels={f"{slot}_words": " ".join(map(str, slot_words))})


def test_slot_word_profile_scores_methods_and_controls_per_speaker():
    utts = [_command("a1", "b", [0.1, 0.3, 0.2], [1]), _command("a2", "a", [0.4, 0.1, 0.1, 0.1], [2, 3]),
            _command("a3", "b", [0.2, 0.1, 0.5], [0])]
    scores = {"a1": [1.0, 3.0, -2.0], "a2": [2.0, 1.0, 1.0, -5.0], "a3": [-1.0, 0.5, 0.5]}
    got = A.slot_word_profile({"m": lambda u: scores[u.id]}, utts, "object")
    assert list(got.columns) == ["ranking", "speaker", "top", "share"]
    assert list(zip(got.ranking, got.speaker)) == [("m", "a"), ("m", "b"), ("control: duration", "a"),
                                                   ("control: duration", "b"), ("control: random", "a"),
                                                   ("control: random", "b")]
    # speaker a (one command): top word 0 is not a slot word; positive scores 2, 1, 1 -> slot share 1 / 4
    # speaker b: a1 top = word 1 (slot), share 3 / 4; a3 top = word 1 (first maximum, not slot), share 0 / 1
    # durations: a's longest word is 0 (not slot), slot share 0.2 / 0.7; b: a1's longest word 1 (slot), share 0.5,
    # a3's longest word 2 (not slot), share 0.25; random: the fraction of slot words, 2 / 4 for a and 1 / 3 for b
    np.testing.assert_allclose(got.top, [0.0, 0.5, 0.0, 0.5, 0.5, 1 / 3])
    np.testing.assert_allclose(got.share, [0.25, 0.375, 0.2 / 0.7, 0.375, 0.5, 1 / 3])


def test_slot_word_profile_reads_the_slot_it_is_given_and_refuses_bad_scores():
    u = _command("c", "s", [0.1, 0.2], [0], slot="action")
    u.labels["object_words"] = "1"
    got = A.slot_word_profile({"m": lambda u: [1.0, 0.0]}, [u], "action")
    assert got.loc[got.ranking == "m", "top"].item() == 1.0
    assert got.loc[got.ranking == "control: duration", "top"].item() == 0.0
    with pytest.raises(ValueError, match="one finite score per word"):
        A.slot_word_profile({"m": lambda u: [1.0]}, [u], "action")
    with pytest.raises(ValueError, match="no word of the slot"):
        A.slot_word_profile({"m": lambda u: [1.0, 0.0]}, [u], "location")
    with pytest.raises(ValueError, match="controls"):
        A.slot_word_profile({"control: random": lambda u: [1.0, 0.0]}, [u], "action")
    with pytest.raises(ValueError, match="No utterance"):
        A.slot_word_profile({}, [], "action")


# --------------------------------------------------------------------------
# A Whisper-style transcriber explained over its log-mel input (a tiny random model, a 1-second window)


_SPEECH = ["turn on the lights", "bring me the newspaper"]


@pytest.fixture(scope="module")
def tiny_transcriber():
    from transformers import GenerationConfig, WhisperForConditionalGeneration

    from speech_course_tools.training import _whisper_processor, whisper_config

    processor = _whisper_processor(_SPEECH, seconds=1)
    tok = processor.tokenizer
    sot, eos = tok.convert_tokens_to_ids("<|startoftranscript|>"), tok.eos_token_id
    cfg = whisper_config(len(tok), sot, eos, seconds=1)
    cfg.encoder_layers, cfg.decoder_layers, cfg.d_model, cfg.init_std = 1, 1, 32, 0.2
    cfg.encoder_ffn_dim = cfg.decoder_ffn_dim = 64
    cfg.encoder_attention_heads = cfg.decoder_attention_heads = 2
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=sot, eos_token_id=eos, pad_token_id=eos,
                                               bos_token_id=eos, max_length=16)
    rng = np.random.default_rng(3)
    wave = (0.1 * np.sin(2 * np.pi * 300 * np.arange(9600) / 16000) + 0.01 * rng.standard_normal(9600))
    return model, processor, wave.astype(np.float32)  # 0.6 s of audio in a 1 s window: the rest is padding


def test_log_mel_input_is_time_first_and_silence_is_the_padding_level(tiny_transcriber):
    model, processor, wave = tiny_transcriber
    x = A.log_mel_input(processor, wave)
    ref = processor.feature_extractor(wave, sampling_rate=16000, return_tensors="pt").input_features
    assert x.shape == (1, 100, 80) and torch.equal(x, ref.transpose(1, 2))
    base = A.silence_baseline(x)
    assert base.shape == x.shape and torch.all(base == x.min())
    assert torch.all(x[0, -30:] == base[0, -30:])  # the padded end of the window sits at the floor
    alone = A.log_mel_input(processor, np.zeros_like(wave))
    assert float(alone.max()) < float(base[0, 0, 0])  # the log-mel of a zero waveform alone is another input


def test_transcript_word_target_is_the_teacher_forced_logit_of_the_words_tokens(tiny_transcriber):
    model, processor, wave = tiny_transcriber
    tok = processor.tokenizer
    text = _SPEECH[1]
    ids = [model.config.decoder_start_token_id] + tok(text, add_special_tokens=False).input_ids
    from course.context_mixing import token_word_spans

    first, stop = token_word_spans(tok, ids)[1][3]  # "newspaper"
    x = A.log_mel_input(processor, wave)
    with torch.no_grad():
        logits = model(input_features=x.transpose(1, 2), decoder_input_ids=torch.tensor([ids])).logits[0]
        f = A.transcript_word_target(model, tok, text, 3)
        g = A.transcript_word_target(model, tok, text, [3], output="log_prob")
        both = A.transcript_word_target(model, tok, text, [0, 3])
        by_hand = sum(float(logits[p - 1, ids[p]]) for p in range(first, stop))
        log_p = torch.log_softmax(logits, -1)
        assert np.isclose(float(f(x)[0]), by_hand, atol=1e-5)
        assert np.isclose(float(g(x)[0]), sum(float(log_p[p - 1, ids[p]]) for p in range(first, stop)), atol=1e-5)
        first0, stop0 = token_word_spans(tok, ids)[1][0]
        assert np.isclose(float(both(x)[0]), by_hand + sum(float(logits[p - 1, ids[p]]) for p in range(first0, stop0)),
                          atol=1e-4)
        assert f(torch.cat([x, x, 0 * x])).shape == (3,)
    with pytest.raises(ValueError, match="not among"):
        A.transcript_word_target(model, tok, text, 4)
    with pytest.raises(ValueError, match="group into the words"):
        A.transcript_word_target(model, tok, "bring  me", 0)
    with pytest.raises(ValueError, match="output"):
        A.transcript_word_target(model, tok, text, 0, output="probability")


def test_spectrogram_attributions_match_captum_and_a_broken_ig_does_not(tiny_transcriber):
    from captum.attr import InputXGradient, IntegratedGradients, Saliency

    model, processor, wave = tiny_transcriber
    text = _SPEECH[1]
    x = A.log_mel_input(processor, wave)
    base = A.silence_baseline(x)
    f = A.transcript_word_target(model, processor.tokenizer, text, 3)
    ours, delta = A.spectrogram_attributions(model, processor, wave, text, 3, n_steps=6, internal_batch_size=4,
                                             return_convergence_delta=True)
    ref = IntegratedGradients(f).attribute(x, base, n_steps=6)[0].numpy()
    assert ours.shape == (100, 80) and ours.dtype == np.float64
    _close(ours, ref, 1e-4)
    with torch.no_grad():
        gap = float(f(x)[0] - f(base)[0])
    assert np.isclose(delta, ours.sum() - gap, atol=1e-3)
    assert np.all(ours[-30:] == 0.0), "from the silence floor, the padded frames have x - x' = 0: no attribution"
    zeros = A.spectrogram_attributions(model, processor, wave, text, 3, baselines="zeros", n_steps=6)
    _close(zeros, IntegratedGradients(f).attribute(x, 0.0 * x, n_steps=6)[0].numpy(), 1e-4)
    assert np.abs(zeros[-30:]).sum() > 0, "from an all-zero array the padding gets attribution"
    # a broken IG without the factor (x - x') is a path-averaged gradient: not what captum computes
    broken = A.integrated_gradients(f, x, base, None, 6, multiply_by_inputs=False)[0].numpy()
    assert not np.allclose(broken, ref, atol=1e-3)
    assert np.abs(broken[-30:]).sum() > 0  # and it credits the padding, which IG from silence cannot
    _close(A.spectrogram_attributions(model, processor, wave, text, 3, method="saliency"),
           Saliency(f).attribute(x)[0].numpy(), 1e-5)
    _close(A.spectrogram_attributions(model, processor, wave, text, 3, method="input_x_gradient"),
           InputXGradient(f).attribute(x)[0].detach().numpy(), 1e-5)
    g = A.spectrogram_attributions(model, processor, wave, text, 3, method="gradient")
    _close(np.abs(g), Saliency(f).attribute(x)[0].numpy(), 1e-5)
    with pytest.raises(ValueError, match="Unknown method"):
        A.spectrogram_attributions(model, processor, wave, text, 3, method="lime")
    with pytest.raises(ValueError, match="baselines"):
        A.spectrogram_attributions(model, processor, wave, text, 3, baselines="noise")
    with pytest.raises(ValueError, match="convergence delta"):
        A.spectrogram_attributions(model, processor, wave, text, 3, method="saliency", return_convergence_delta=True)


def test_a_log_mel_map_pools_to_words_and_to_encoder_frames():
    a = np.arange(12 * 3, dtype=np.float64).reshape(12, 3)  # 12 log-mel frames (10 ms) by 3 bands
    words = [Interval(0.0, 0.03, "a"), Interval(0.03, 0.075, "b")]  # frames 0-2; 3-6 (centre 0.075 is outside)
    np.testing.assert_allclose(A.pool_to_words(a, words, rate=100), [a[:3].sum(), a[3:7].sum()])
    frames = A.pool_features(a.sum(1)[None], A.chunk_mask(len(a), 2))  # the encoder's 20 ms frames
    np.testing.assert_allclose(frames, a.sum(1).reshape(6, 2).sum(1))
    np.testing.assert_allclose(A.pool_to_words(frames, [Interval(0.0, 0.04, "a")], rate=50), [a[:4].sum()])
