"""What a build produced, measured against the platform's limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sff.packaging._infra import PackagedFunction, gcp_entry_point
from sff.packaging._targets import MB, SizeLimit


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


@dataclass(frozen=True)
class PackageReport:
    target: str
    arch: str
    python: str
    zip_path: Path
    infra_files: tuple[Path, ...]
    functions: tuple[PackagedFunction, ...]
    file_count: int
    zipped_bytes: int
    unzipped_bytes: int
    limits: tuple[SizeLimit, ...]
    pyc: str
    warnings: tuple[str, ...]
    elapsed_s: float
    modules: tuple[str, ...] = ()  # the project's top-level modules and packages shipped

    def _measure(self, limit: SizeLimit) -> int:
        return self.zipped_bytes if limit.what == "zipped" else self.unzipped_bytes

    @property
    def over_limits(self) -> tuple[SizeLimit, ...]:
        return tuple(lim for lim in self.limits if self._measure(lim) > lim.max_bytes)

    @property
    def all_warnings(self) -> tuple[str, ...]:
        over = tuple(
            f"{lim.what} size {_mb(self._measure(lim))} is over the {_mb(lim.max_bytes)} "
            f"limit: {lim.label}"
            for lim in self.over_limits
        )
        return over + self.warnings

    def size_line(self) -> str:
        return (
            f"{self.zip_path.name}: {_mb(self.zipped_bytes)} zipped, "
            f"{_mb(self.unzipped_bytes)} unzipped, {self.file_count} files"
        )

    def format(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"package  {self.zip_path}",
            f"target   {self.target} {self.arch}, python{self.python}",
            f"size     {self.size_line()}",
        ]
        for lim in self.limits:
            used = self._measure(lim) / lim.max_bytes
            mark = "OVER" if used > 1 else "ok"
            lines.append(
                f"limit    {mark:4} {lim.what} {_mb(lim.max_bytes)} ({used:.0%} used) — {lim.label}"
            )
        lines.append(f"bytecode {self.pyc}")
        if self.modules:
            lines.append(f"project  {', '.join(self.modules)} (what the functions import)")
        lines.append(
            f"handlers one zip for all {len(self.functions)} function(s), each with its handler:"
        )
        for fn in self.functions:
            gcp = self.target == "gcp"
            entry = f" (entry point {gcp_entry_point(fn)} in main.py)" if gcp else ""
            lines.append(f"  {fn.name:16} {fn.method.upper():6} {fn.route:24} {fn.handler}{entry}")
        for path in self.infra_files:
            lines.append(f"wrote    {path}")
        lines.extend(f"warning  {w}" for w in self.all_warnings)
        lines.append(f"took     {self.elapsed_s:.1f}s")
        return "\n".join(lines)
