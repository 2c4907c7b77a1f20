"""The DCFFNet network: registry, layer sizes, variants, gradients, batch independence, cell mapping."""

import dataclasses

import pytest
import torch
from torch import nn

from dcffnet.models import CF_CHOICES, DCFFNet, ModelConfig, create, get_config, list_models


def _crops(batch=1, template=127, search=255):
    return torch.rand(batch, 3, template, template) * 255, torch.rand(batch, 3, search, search) * 255


def test_registry_lists_paper_and_cpu_configs():
    names = list_models()
    assert "dcffnet_r50" in names
    assert len(names) >= 3
    with pytest.raises(KeyError, match="dcffnet_r50"):
        create("no_such_model")
    with pytest.raises(TypeError, match="not_an_arg"):
        create("dcffnet_tiny", not_an_arg=1)
    with pytest.raises(ValueError, match="cf must be"):
        create("dcffnet_tiny", cf="triple")


def test_r50_search_map_sizes_match_the_paper():
    """87x87 after the stem (conv3) and 44x44 after block2, measured on real tensors with hooks."""
    model = create("dcffnet_r50").eval()
    seen = {}

    def hook(name):
        return lambda module, inputs, output: seen.setdefault(name, []).append(tuple(output.shape[2:]))

    model.stem.register_forward_hook(hook("stem"))
    model.block2.register_forward_hook(hook("block2"))
    model.block3.register_forward_hook(hook("block3"))
    z, x = _crops()
    with torch.no_grad():
        template = model.template(z)
        out = model.track(x, template)
    assert seen["stem"] == [(45, 45), (87, 87)]  # template first, then search
    assert seen["block2"] == [(23, 23), (44, 44)]
    assert seen["block3"] == [(23, 23), (44, 44)]
    assert template.final.shape == (1, 256, 19, 19)
    assert out["cls"].shape == (1, 2, 22, 22) and out["reg"].shape == (1, 4, 22, 22)
    assert model.feature_sizes["search"]["conv3"] == 87 and model.feature_sizes["search"]["block2"] == 44
    assert model.geometry.size == 22 and model.geometry.stride == 6
    # paper widths: ResNet-50 layer2 (512 ch, 4 blocks) and layer3 (1024 ch, 6 blocks)
    assert len(model.block2) == 4 and len(model.block3) == 6
    assert model.block2[-1].conv3.out_channels == 512 and model.block3[-1].conv3.out_channels == 1024


@pytest.mark.parametrize("name", list_models())
def test_every_config_runs_forward_and_backward(name):
    model = create(name).train()
    z, x = _crops(batch=2)
    out = model(z, x)
    loss = out["cls"].logsumexp(1).mean() + out["reg"].log().mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads), "every parameter must receive a gradient"
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("cf", CF_CHOICES)
@pytest.mark.parametrize("head", ["siamfc", "car"])
def test_variants_build_and_run(cf, head):
    model = create("dcffnet_tiny", cf=cf, head=head).eval()
    assert (model.cf1 is not None) == (cf in ("first", "double"))
    assert (model.cf2 is not None) == (cf in ("second", "double"))
    z, x = _crops()
    with torch.no_grad():
        template = model.template(z)
        out = model.track(x, template)
    assert (template.stage1 is not None) == (cf in ("first", "double"))
    assert (template.stage2 is not None) == (cf in ("second", "double"))
    keys = {"response"} if head == "siamfc" else {"cls", "reg"}
    assert set(out) == keys
    if head == "car":
        assert (out["reg"] > 0).all()


def test_template_self_fusion_changes_template_features():
    z, x = _crops()
    torch.manual_seed(0)
    plain = create("dcffnet_tiny").eval()
    torch.manual_seed(0)
    fused = create("dcffnet_tiny", template_fusion="self").eval()
    with torch.no_grad():
        assert not torch.allclose(plain.template(z).final, fused.template(z).final)


def test_batch_samples_are_independent_in_eval_mode():
    model = create("dcffnet_tiny").eval()
    z, x = _crops(batch=3)
    with torch.no_grad():
        batched = model(z, x)
        for i in range(3):
            single = model(z[i:i + 1], x[i:i + 1])
            torch.testing.assert_close(batched["cls"][i:i + 1], single["cls"], rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(batched["reg"][i:i + 1], single["reg"], rtol=1e-4, atol=1e-3)


def test_cached_template_equals_full_forward():
    model = create("dcffnet_tiny").eval()
    z, x = _crops()
    with torch.no_grad():
        torch.testing.assert_close(model(z, x)["cls"], model.track(x, model.template(z))["cls"])


@pytest.mark.parametrize("name", list_models())
def test_config_round_trips_through_dict(name):
    config = get_config(name, cf="first", template_fusion="self", cf_upsample=2)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="bogus"):
        ModelConfig.from_dict({**config.to_dict(), "bogus": 1})


def test_no_cuda_calls_in_model_code():
    import pathlib

    import dcffnet

    root = pathlib.Path(dcffnet.__file__).parent
    offenders = [str(p) for p in root.rglob("*.py") if ".cuda()" in p.read_text()]
    assert offenders == []


def _make_blur_network():
    """cf='none', SiamFC head, every conv weight positive and constant, BN = identity: a symmetric blur."""
    model = create("dcffnet_tiny", cf="none", head="siamfc", pixel_mean=(0.0, 0.0, 0.0), pixel_std=(1.0, 1.0, 1.0))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.fill_(1.0 / fan_in)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
                module.reset_running_stats()
    return model.eval()


@pytest.mark.parametrize("cell", [(9, 9), (10, 12), (12, 10)])
def test_cell_to_pixel_mapping_matches_the_network(cell):
    """The gradient of response cell (i, j) w.r.t. the search crop is centred on the geometry's point."""
    model = _make_blur_network()
    z = torch.ones(1, 3, 127, 127)
    x = torch.ones(1, 3, 255, 255, requires_grad=True)
    out = model(z, x)["response"]
    i, j = cell
    out[0, 0, i, j].backward()
    g = x.grad[0].abs().sum(0)
    ys = torch.arange(255, dtype=torch.float64) + 0.5  # continuous pixel centres
    cy = (g.sum(1).double() * ys).sum() / g.sum()
    cx = (g.sum(0).double() * ys).sum() / g.sum()
    points = model.geometry.cell_points()
    assert abs(cx.item() - points[j]) < 0.51
    assert abs(cy.item() - points[i]) < 0.51


def test_dcffnet_rejects_bad_crops():
    model = create("dcffnet_tiny").eval()
    with pytest.raises(ValueError, match="crops"):
        model.template(torch.zeros(1, 1, 127, 127))


def test_small_input_sizes_are_configurable():
    model = DCFFNet(dataclasses.replace(get_config("dcffnet_tiny"), template_size=95, search_size=191)).eval()
    z, x = _crops(template=95, search=191)
    with torch.no_grad():
        out = model(z, x)
    assert out["cls"].shape[-1] == model.geometry.size


def test_batchnorm_folding_keeps_outputs():
    from dcffnet.models.fuse import fuse_batchnorm

    model = create("dcffnet_tiny").train()
    z, x = _crops(batch=2)
    model(z, x)  # move the BN running statistics away from their initial values
    model.eval()
    fused = fuse_batchnorm(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.stem.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in fused.modules()) == 2  # the two CF responses
    with torch.no_grad():
        a, b = model(z, x), fused(z, x)
    torch.testing.assert_close(a["cls"], b["cls"], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(a["reg"], b["reg"], rtol=1e-4, atol=1e-3)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.stem.modules())  # the original is untouched
