import pytest
import torch

from ivif.models.blocks import GlobalChannelGate, LocalChannelGate, TokenMLP


def _explicit(block: TokenMLP, x: torch.Tensor) -> torch.Tensor:
    """The block computed the direct way: gate multiplying the hidden tokens, then the projection."""
    batch, channels, height, width = x.shape
    tokens = x.flatten(2).transpose(1, 2)
    out = block.project(block.gate(block.act(block.expand(tokens))))
    return out.transpose(1, 2).reshape(batch, channels, height, width)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_folded_global_gate_equals_the_explicit_multiply_and_its_gradients(memory_format):
    torch.manual_seed(0)
    block = TokenMLP(6, 24, GlobalChannelGate(3)).double()
    x = torch.randn(3, 6, 5, 7, dtype=torch.float64).contiguous(memory_format=memory_format)
    folded, explicit = block(x), _explicit(block, x)
    torch.testing.assert_close(folded, explicit, rtol=0, atol=1e-12)
    weights = torch.randn_like(folded)
    grads = [torch.autograd.grad((out * weights).sum(), list(block.parameters())) for out in (block(x), _explicit(block, x))]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11)


def test_gates_per_image_depend_on_the_whole_image_and_per_token_ones_do_not_fold():
    torch.manual_seed(1)
    x = torch.randn(1, 4, 6, 6, dtype=torch.float64)
    changed = x.clone()
    changed[..., 5, 5] += 3.0  # one far pixel
    global_block = TokenMLP(4, 16, GlobalChannelGate(3)).double()
    local_block = TokenMLP(4, 16, LocalChannelGate(16)).double()
    # the per-image gate sees the far pixel everywhere; the local one only near it
    assert not torch.allclose(global_block(x)[..., 0, 0], global_block(changed)[..., 0, 0])
    torch.testing.assert_close(local_block(x)[..., 0, 0], local_block(changed)[..., 0, 0])
    torch.testing.assert_close(local_block(x), _explicit(local_block, x), rtol=0, atol=0)
