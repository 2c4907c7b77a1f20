"""Correlation operators and the correlation-fusion module."""

import pytest
import torch

from dcffnet.models.fusion import CorrelationFusion, depthwise_xcorr, resize_and_center_crop, xcorr


def naive_depthwise_xcorr(search, kernel):
    b, c, h, w = search.shape
    kh, kw = kernel.shape[2:]
    out = torch.zeros(b, c, h - kh + 1, w - kw + 1, dtype=search.dtype)
    for bi in range(b):
        for ci in range(c):
            for y in range(h - kh + 1):
                for x in range(w - kw + 1):
                    out[bi, ci, y, x] = (search[bi, ci, y:y + kh, x:x + kw] * kernel[bi, ci]).sum()
    return out


def test_depthwise_xcorr_equals_naive_loop():
    search = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    kernel = torch.randn(2, 3, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(depthwise_xcorr(search, kernel), naive_depthwise_xcorr(search, kernel))


def test_xcorr_is_channel_sum_of_depthwise():
    search = torch.randn(3, 5, 10, 10, dtype=torch.float64)
    kernel = torch.randn(3, 5, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(xcorr(search, kernel), depthwise_xcorr(search, kernel).sum(1, keepdim=True))


def test_samples_do_not_influence_each_other():
    search = torch.randn(4, 6, 12, 12)
    kernel = torch.randn(4, 6, 5, 5)
    full = depthwise_xcorr(search, kernel)
    for i in range(4):
        single = depthwise_xcorr(search[i:i + 1], kernel[i:i + 1])
        torch.testing.assert_close(full[i:i + 1], single)
    changed = kernel.clone()
    changed[2] = torch.randn(6, 5, 5)
    out = depthwise_xcorr(search, changed)
    torch.testing.assert_close(out[[0, 1, 3]], full[[0, 1, 3]])
    assert not torch.allclose(out[2], full[2])


@pytest.mark.parametrize("search_shape,kernel_shape", [((1, 3, 8, 8), (2, 3, 3, 3)), ((1, 3, 8, 8), (1, 4, 3, 3)),
                                                       ((1, 3, 4, 4), (1, 3, 5, 5)), ((3, 8, 8), (3, 3, 3))])
def test_xcorr_rejects_mismatched_inputs(search_shape, kernel_shape):
    with pytest.raises(ValueError):
        depthwise_xcorr(torch.zeros(search_shape), torch.zeros(kernel_shape))


def test_resize_and_center_crop_sizes_and_centre():
    response = torch.zeros(1, 1, 43, 43)
    response[0, 0, 21, 21] = 1.0  # the centre cell
    out = resize_and_center_crop(response, (87, 87), None)
    assert out.shape == (1, 1, 87, 87)
    peak = torch.nonzero(out[0, 0] == out[0, 0].max())
    assert peak.float().mean(0).tolist() == [43.0, 43.0]  # stays in the centre
    assert resize_and_center_crop(torch.zeros(2, 4, 22, 22), (44, 44), None).shape == (2, 4, 44, 44)
    assert resize_and_center_crop(torch.zeros(1, 1, 5, 5), (12, 12), 2).shape == (1, 1, 12, 12)  # padded


@pytest.mark.parametrize("template_fusion", ["none", "self"])
def test_correlation_fusion_shapes_and_template_branch(template_fusion):
    module = CorrelationFusion(8, template_fusion).eval()
    search, template = torch.randn(2, 8, 87, 87), torch.randn(2, 8, 45, 45)
    fused = module.fuse(search, template)
    assert fused.shape == search.shape
    assert not torch.allclose(fused, search)
    passed = module.template_branch(template)
    assert passed.shape == template.shape
    assert torch.equal(passed, template) == (template_fusion == "none")


def test_correlation_fusion_rejects_unknown_option():
    with pytest.raises(ValueError, match="template_fusion"):
        CorrelationFusion(8, "both")
