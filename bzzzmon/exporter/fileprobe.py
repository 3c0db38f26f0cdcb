"""The ``file`` probe: the newest regular file matching a pattern, e.g. the newest database dump.

A pattern is an absolute directory (followed as configured: the operator chose it) and a file
name pattern (``fnmatch``, case-sensitive). One probe lists that one directory, never recursing:

- entries that are symlinks are never followed (a loop, or a link to a file elsewhere, cannot
  stand in for a backup) and neither are other non-regular entries (FIFOs, sockets, devices,
  directories); opening none of them, a listing cannot block on them;
- the newest regular file (by modification time, then name) gives the age and the size;
- failures are outcomes with a reason: ``no_file`` (nothing regular matches, or the directory
  does not exist), ``symlink`` (only symlinks match), ``unreadable`` (the directory cannot be
  listed: permissions, a symlink loop on its path, not a directory, an I/O error),
  ``too_large`` (more than :data:`MAX_ENTRIES` entries), ``timeout`` (a hung file system).

The listing runs in a thread of its own pool (:func:`file_pool`), bounded by the probe timeout,
so a slow or hung file system never blocks the event loop; a listing that never returns keeps
one of :data:`FILE_WORKERS` threads busy, and later file probes time out instead of piling up.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor

from bzzzmon.exporter.probes import ProbeFailed, ProbeOutcome, failed_outcome

FILE_WORKERS = 2
# Entries one listing reads at most: a dump directory holds hundreds, not millions.
MAX_ENTRIES = 100_000


def file_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(FILE_WORKERS, "bzzz-files")


async def probe_file(pool: ThreadPoolExecutor, pattern: str, timeout: float) -> ProbeOutcome:
    """Probe ``pattern`` once; never raises (except cancellation)."""
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            mtime, size, name = await loop.run_in_executor(pool, newest_file, pattern)
    except ProbeFailed as exc:
        return failed_outcome(started, exc.reason, exc.detail)
    except TimeoutError:
        return failed_outcome(started, "timeout", f"listing took longer than {timeout:g}s")
    return ProbeOutcome(
        True, None, name, time.monotonic() - started, file_mtime=mtime, file_size=size
    )


def newest_file(pattern: str) -> tuple[float, int, str]:
    """(mtime, size, name) of the newest regular file matching ``pattern``; raises ProbeFailed."""
    directory, _sep, glob = pattern.rpartition("/")
    directory = directory or "/"
    best: tuple[float, str, int] | None = None
    links = 0
    try:
        with os.scandir(directory) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    raise ProbeFailed("too_large", f"{directory} has over {MAX_ENTRIES} entries")
                if not fnmatch.fnmatchcase(entry.name, glob):
                    continue
                if entry.is_symlink():
                    links += 1
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # removed meanwhile (a rotating backup job)
                candidate = (info.st_mtime, entry.name, info.st_size)
                if stat.S_ISREG(info.st_mode) and (best is None or candidate > best):
                    best = candidate
    except FileNotFoundError:
        raise ProbeFailed("no_file", f"{directory} does not exist") from None
    except OSError as exc:  # EACCES, ELOOP, ENOTDIR, EIO, ...
        raise ProbeFailed("unreadable", f"cannot list {directory}: {exc.strerror or exc}") from None
    if best is None:
        if links:
            raise ProbeFailed("symlink", f"only symlinks match {glob} (never followed)")
        raise ProbeFailed("no_file", f"no regular file matches {glob} in {directory}")
    mtime, name, size = best
    return mtime, size, name
