"""One GPU per job on a machine with several: a lock file per device index, held for the job's life.

Snakemake's ``--resources gpu=N`` bounds how many GPU jobs run at once but names no device, so without this every
job would compute on cuda:0. A job takes the first device whose lock it can get (``fcntl.flock``, which the kernel
drops when the process ends, however it ends, so a crashed job never leaves a device taken) and keeps the lock's
file open until it exits. The locks live in a folder of the user's own (``$BAGNET_GPU_SLOTS``, else
``$XDG_RUNTIME_DIR/bagnet-repro-gpu-slots``, else ``/tmp/bagnet-repro-gpu-slots-<uid>``).
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

from ..errors import UserError

_held: list[int] = []  # open lock files of this process: they are the slots, closed only at exit


def slot_folder(env: os._Environ | dict | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("BAGNET_GPU_SLOTS"):
        return Path(env["BAGNET_GPU_SLOTS"])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "bagnet-repro-gpu-slots"
    return Path("/tmp") / f"bagnet-repro-gpu-slots-{os.getuid()}"


def _own_folder(folder: Path) -> Path:
    """The lock folder, made private; one that belongs to another user is refused (they could hold our GPUs)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise UserError(f"cannot make the GPU slot folder {folder}: {exc.strerror} (set BAGNET_GPU_SLOTS)") from None
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid():
        raise UserError(f"GPU slot folder {folder} is not a folder of yours (set BAGNET_GPU_SLOTS)")
    return folder


def _try_lock(folder: Path, index: int) -> int | None:
    fd = os.open(folder / f"gpu{index}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a person looking
    return fd


def claim(count: int, wanted: int = 1, folder: Path | None = None, poll_s: float = 0.5) -> list[int]:
    """Indices of ``wanted`` of the ``count`` devices, locked for this process's life; waits while too few are free.

    A pass that finds too few gives back what it took before waiting, so two jobs of several GPUs never hold
    half each. ``count`` is a parameter, not asked of the driver here, so that the slots are tested without GPUs.
    """
    if wanted > count:
        raise UserError(f"this job asks for {wanted} GPUs but the machine has {count}")
    folder = _own_folder(folder or slot_folder())
    said = False
    while True:
        taken: dict[int, int] = {}
        for index in range(count):
            if len(taken) < wanted and (fd := _try_lock(folder, index)) is not None:
                taken[index] = fd
        if len(taken) == wanted:
            _held.extend(taken.values())
            return sorted(taken)
        for fd in taken.values():
            os.close(fd)
        if not said:
            print(
                f"waiting for {wanted} free GPU(s) of {count}: the others are held by other jobs (locks in {folder})",
                file=sys.stderr,
                flush=True,
            )
            said = True
        time.sleep(poll_s)
