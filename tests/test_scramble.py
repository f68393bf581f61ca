"""The scrambling test rearranges whole pieces, the same way for every model."""

import torch

from bagnet_repro.evaluation.scramble import image_permutation, scramble, scramble_batch


def test_scramble_moves_whole_pieces():
    image = torch.arange(3 * 8 * 8).reshape(3, 8, 8)
    perm = torch.tensor([3, 2, 1, 0])
    out = scramble(image, perm, grid=2)
    torch.testing.assert_close(out[:, :4, :4], image[:, 4:, 4:])
    torch.testing.assert_close(out[:, 4:, 4:], image[:, :4, :4])
    torch.testing.assert_close(out[:, :4, 4:], image[:, 4:, :4])
    assert sorted(out.flatten().tolist()) == sorted(image.flatten().tolist())


def test_identity_permutation_and_grid_one_change_nothing():
    image = torch.rand(3, 12, 12)
    torch.testing.assert_close(scramble(image, torch.arange(16), 4), image)
    torch.testing.assert_close(scramble(image, torch.tensor([0]), 1), image)


def test_permutation_depends_on_image_key_only():
    assert torch.equal(image_permutation("abc", 0, 16), image_permutation("abc", 0, 16))
    assert not torch.equal(image_permutation("abc", 0, 16), image_permutation("abd", 0, 16))
    images = torch.rand(2, 3, 16, 16)
    both = scramble_batch(images, ["k1", "k2"], seed=0, grid=4)
    alone = scramble_batch(images[1:], ["k2"], seed=0, grid=4)
    torch.testing.assert_close(both[1:], alone)
