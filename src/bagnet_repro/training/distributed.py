"""The process group of a torchrun launch (NCCL on GPUs, gloo on CPUs) and the collectives pretraining needs.

Without torchrun the same code runs as a group of one, so a single process needs no special path.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import socket
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..compute.device import resolve_device
from ..errors import UserError


@dataclass(frozen=True)
class Ranks:
    """This process's place in the group and the device it computes on."""

    rank: int
    world: int
    local_rank: int
    device: torch.device
    local_world: int = 1  # the processes on this node
    node_rank: int = 0  # torchrun's GROUP_RANK: this node's place among the nodes
    node: str = "localhost"  # this node's host name

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        """The line every process logs: where it runs and which shard is its own (the global rank's)."""
        return (
            f"rank {self.rank} of {self.world} (local rank {self.local_rank} of {self.local_world}) "
            f"on node {self.node} (node rank {self.node_rank}), {self.device}"
        )


def init_group(device_name: str, timeout_minutes: float = 30.0) -> Ranks:
    """Join the torchrun group (``env://``), or form a group of one when not launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    node_rank = int(os.environ.get("GROUP_RANK", "0"))
    device = resolve_device(device_name)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UserError(
                f"local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible); "
                "set pretrain.processes to at most the GPUs per node"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = datetime.timedelta(minutes=timeout_minutes)
    if "MASTER_ADDR" in os.environ:
        dist.init_process_group(backend, timeout=timeout, device_id=device if device.type == "cuda" else None)
    else:
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1, timeout=timeout)
    return Ranks(rank, world, local_rank, device, local_world, node_rank, socket.gethostname())


def close_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def sum_over_ranks(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (float64, so counts stay exact)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def from_main(flag: bool, device: torch.device) -> bool:
    """Rank 0's value of ``flag`` on every rank, so all ranks take the same branch."""
    tensor = torch.tensor([int(flag)], device=device)
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())


def average_batchnorm_statistics(model: nn.Module, world: int) -> None:
    """Average the running mean and variance over ranks.

    With SyncBatchNorm (GPUs) they are already equal and this changes no bit; PyTorch has no
    SyncBatchNorm on CPUs, where each rank's statistics drift apart during an epoch.
    """
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            for buffer in (module.running_mean, module.running_var):
                assert buffer is not None  # tracked running statistics exist
                dist.all_reduce(buffer)
                buffer.div_(world)


def state_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over the names and exact bytes of every tensor: equal digests mean bitwise equal replicas."""
    digest = hashlib.sha256()
    for name, tensor in state_dict.items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def digests_of_all_ranks(state_dict: dict[str, torch.Tensor]) -> list[str]:
    digests: list[str | None] = [None] * dist.get_world_size()
    dist.all_gather_object(digests, state_digest(state_dict))
    return [str(d) for d in digests]
