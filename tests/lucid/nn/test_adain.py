"""AdaIN: ``instance_norm(content) * style_std + style_mean`` and its statistics helper."""

import numpy as np
import pytest

import lucid
import lucid.nn.functional as F
from lucid.testing import gradcheck, random_tensor


def pytorch_adain_calc_mean_std(feat, eps=1e-5):
    """pytorch-AdaIN's ``calc_mean_std`` (naoto0804/pytorch-AdaIN, function.py) in numpy."""
    n, c = feat.shape[:2]
    var = feat.reshape(n, c, -1).var(axis=2, ddof=1) + eps
    return feat.reshape(n, c, -1).mean(axis=2).reshape(n, c, 1, 1), np.sqrt(var).reshape(n, c, 1, 1)


def pytorch_adain(content, style):
    """pytorch-AdaIN's ``adaptive_instance_normalization`` in numpy."""
    style_mean, style_std = pytorch_adain_calc_mean_std(style)
    content_mean, content_std = pytorch_adain_calc_mean_std(content)
    return (content - content_mean) / content_std * style_std + style_mean


def test_calc_mean_std_matches_pytorch_adain(device):
    feat = lucid.randn(2, 3, 5, 7, device=device) * 2 + 1
    mean, std = F.calc_mean_std(feat)
    ref_mean, ref_std = pytorch_adain_calc_mean_std(feat.cpu().numpy().astype(np.float64))
    assert mean.shape == std.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(mean.cpu().numpy(), ref_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std.cpu().numpy(), ref_std, rtol=1e-5)


def test_output_has_style_statistics(device):
    content = lucid.randn(2, 4, 16, 16, device=device)
    style = lucid.randn(2, 4, 12, 12, device=device) * 3 - 2
    out = F.adaptive_instance_norm(content, style)
    assert out.shape == content.shape
    out_mean, _ = F.calc_mean_std(out)
    style_mean, style_std = F.calc_mean_std(style)
    np.testing.assert_allclose(out_mean.cpu().numpy(), style_mean.cpu().numpy(), atol=1e-4)
    # the normalised content has unit *biased* variance, so the output's biased std is the
    # style's std (up to eps)
    out_std = out.cpu().numpy().std(axis=(2, 3))
    np.testing.assert_allclose(out_std, style_std.cpu().numpy()[..., 0, 0], rtol=1e-3)


def test_equals_instance_norm_scaled_by_style():
    content, style = lucid.randn(2, 3, 6, 6), lucid.randn(2, 3, 4, 4)
    c, s = content.numpy().astype(np.float64), style.numpy().astype(np.float64)
    normalised = (c - c.mean((2, 3), keepdims=True)) / np.sqrt(c.var((2, 3), keepdims=True) + 1e-5)
    style_mean, style_std = pytorch_adain_calc_mean_std(s)
    np.testing.assert_allclose(F.adaptive_instance_norm(content, style).numpy(),
                               normalised * style_std + style_mean, atol=1e-5)


def test_close_to_pytorch_adain():
    # pytorch-AdaIN normalises the content with its unbiased variance, we with the biased one
    # (InstanceNorm2d's): the outputs' centred parts differ by sqrt((HW - 1) / HW)
    content = lucid.randn(1, 3, 32, 32)
    style = lucid.randn(1, 3, 20, 20) * 2 + 0.5
    ours = F.adaptive_instance_norm(content, style).numpy()
    theirs = pytorch_adain(content.numpy().astype(np.float64), style.numpy().astype(np.float64))
    np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=2e-3)
    # with the variance convention accounted for the match is exact
    n = 32 * 32
    mean = theirs.mean(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(ours - mean, (theirs - mean) * np.sqrt(n / (n - 1)), atol=1e-4)


def test_given_statistics_and_broadcast_style():
    content = lucid.randn(3, 2, 5, 5)
    style = lucid.randn(1, 2, 4, 4)
    mean, std = F.calc_mean_std(style)
    by_style = F.adaptive_instance_norm(content, style)
    by_stats = F.adaptive_instance_norm(content, style_mean=mean, style_std=std)
    np.testing.assert_array_equal(by_style.numpy(), by_stats.numpy())
    assert by_style.shape == (3, 2, 5, 5)  # one style for the whole content batch


def test_gradcheck():
    content, style = random_tensor(2, 2, 3, 3), random_tensor(2, 2, 4, 3)
    assert gradcheck(lambda c, s: F.adaptive_instance_norm(c, s), [content, style])
    mean, std = random_tensor(2, 2, 1, 1), random_tensor(2, 2, 1, 1, low=0.5, high=2.0)
    assert gradcheck(
        lambda c, m, s: F.adaptive_instance_norm(c, style_mean=m, style_std=s),
        [content, mean, std],
    )
    assert gradcheck(lambda f: F.calc_mean_std(f)[1], [random_tensor(1, 2, 3, 3)])


def test_torch_gradients_match_pytorch_adain_graph():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    c_np, s_np = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(2, 3, 4, 4))
    content, style = lucid.tensor(c_np, requires_grad=True), lucid.tensor(s_np, requires_grad=True)
    ct, st = torch.tensor(c_np, requires_grad=True), torch.tensor(s_np, requires_grad=True)
    out = F.adaptive_instance_norm(content, style)
    style_mean = st.mean(dim=(2, 3), keepdim=True)
    style_std = (st.var(dim=(2, 3), keepdim=True) + 1e-5).sqrt()
    ref = torch.nn.functional.instance_norm(ct) * style_std + style_mean
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-10)
    gy = rng.normal(size=out.shape)
    out.backward(lucid.tensor(gy))
    ref.backward(torch.tensor(gy))
    np.testing.assert_allclose(content.grad.numpy(), ct.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(style.grad.numpy(), st.grad.numpy(), atol=1e-9)


def test_errors():
    content = lucid.randn(1, 3, 4, 4)
    with pytest.raises(ValueError, match="needs style"):
        F.adaptive_instance_norm(content)
    with pytest.raises(ValueError, match="not both"):
        F.adaptive_instance_norm(content, content, style_mean=lucid.zeros(1, 3, 1, 1),
                                 style_std=lucid.ones(1, 3, 1, 1))
    with pytest.raises(ValueError, match="channels"):
        F.adaptive_instance_norm(content, lucid.randn(1, 4, 4, 4))
    with pytest.raises(ValueError, match="rank"):
        F.adaptive_instance_norm(content, style_mean=lucid.zeros(3), style_std=lucid.ones(3))
    with pytest.raises(ValueError, match="calc_mean_std"):
        F.calc_mean_std(lucid.randn(2, 3))
