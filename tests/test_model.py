"""The masked autoencoder: preset sizes, patching, and what the model may and may not see."""

import pytest
import torch

from lsmkit.model import LSM, PRESETS, get_config, sincos_2d

PAPER_PARAMETERS = {"2M": 2.2e6, "7M": 7.3e6, "25M": 24.6e6, "110M": 110.7e6, "328M": 328.1e6}


@pytest.mark.parametrize("name", PAPER_PARAMETERS)
def test_paper_presets_match_parameter_counts(name):
    with torch.device("meta"):  # no memory for the big ones
        n = LSM(get_config(name)).num_parameters()
    assert abs(n - PAPER_PARAMETERS[name]) / PAPER_PARAMETERS[name] < 0.05


def test_cpu_presets_are_smaller():
    with torch.device("meta"):
        sizes = {n: LSM(get_config(n)).num_parameters() for n in ("tiny", "mini", "2M")}
    assert sizes["tiny"] < sizes["mini"] < sizes["2M"]


def test_unknown_preset_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown preset 'huge'.*tiny.*328M"):
        get_config("huge")
    assert get_config("2M", depth=2).depth == 2


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LSM(get_config("tiny")).eval()


def test_patchify_round_trip_and_token_count(model):
    x = torch.randn(2, 300, 26)
    patches = model.patchify(x)
    assert patches.shape == (2, 30 * 6, 50)  # 26 channels padded to 30: 180 tokens of 10 x 5
    assert torch.equal(model.unpatchify(patches, 300, 26), x)
    # token n = time patch * 6 + channel group: token 7 is minutes 10-19, channels 5-9
    assert torch.equal(patches[0, 7].view(10, 5), x[0, 10:20, 5:10])


def test_positions_are_fixed_and_distinct():
    pos = sincos_2d(30, 6, 64)
    assert pos.shape == (180, 64)
    assert torch.cdist(pos, pos).fill_diagonal_(1.0).min() > 0.1
    assert torch.equal(pos, sincos_2d(30, 6, 64))


def test_hidden_and_missing_values_cannot_leak(model):
    torch.manual_seed(1)
    x = torch.randn(3, 300, 26)
    x[0, 50:90, 2] = float("nan")  # a real gap inside patches
    hidden = torch.zeros(3, 300, 26, dtype=torch.bool)
    hidden[:, 240:] = True  # forecast the last hour
    hidden[1, :, 7] = True  # and one channel inside a 5-channel patch
    with torch.no_grad():
        _, rec = model(x, hidden)
        tampered = x.clone()
        tampered[hidden] = 1e3  # anything the model must not see
        tampered[0, 50:90, 2] = -7.0  # "values" behind a real gap
        _, rec2 = model(tampered, hidden | torch.isnan(x))  # the gap now holds values, hidden
    assert torch.isfinite(rec).all()
    torch.testing.assert_close(rec, rec2)


def test_windows_do_not_affect_each_other(model):
    """Tokens are dropped to the batch's largest visible count and the rest attention-masked:
    a window's output must not depend on which other windows share its batch."""
    torch.manual_seed(2)
    x = torch.randn(2, 300, 26)
    hidden = torch.zeros(2, 300, 26, dtype=torch.bool)
    hidden[0] = torch.rand(300, 26) < 0.9  # few visible tokens in window 0
    with torch.no_grad():
        _, together = model(x, hidden)
        _, alone = model(x[:1], hidden[:1])
    torch.testing.assert_close(together[:1], alone, atol=1e-5, rtol=1e-4)


def test_loss_counts_only_hidden_and_observed(model):
    x = torch.randn(2, 300, 26)
    hidden = torch.zeros(2, 300, 26, dtype=torch.bool)
    hidden[:, :30, :5] = True
    loss, rec = model(x, hidden)
    values, pred = model.patchify(x), model.patchify(rec)
    expected = ((pred - values) ** 2)[model.patchify(hidden.float()) > 0].mean()
    torch.testing.assert_close(loss, expected)
    x[:, :30, :5] = float("nan")  # hidden but never observed: nothing left to score
    loss, _ = model(x, hidden)
    assert loss.item() == 0.0


def test_everything_hidden_still_gives_finite_output(model):
    x = torch.randn(2, 300, 26)
    with torch.no_grad():
        _, rec = model(x, torch.ones(2, 300, 26, dtype=torch.bool))
    assert torch.isfinite(rec).all()


def test_wrong_channel_count_is_refused(model):
    with pytest.raises(ValueError, match="expected 26 channels, got 20"):
        model(torch.randn(1, 300, 20), torch.zeros(1, 300, 20, dtype=torch.bool))
