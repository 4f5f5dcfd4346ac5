"""Peak resident memory of this process, in KiB.

``getrusage(RUSAGE_SELF).ru_maxrss`` in a child of a big process reports the parent's
peak on Linux (it survives fork and exec), so ``VmHWM`` from /proc, which starts over
with the new address space, is preferred; getrusage is the fallback elsewhere.
"""

from __future__ import annotations

import resource


def peak_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
