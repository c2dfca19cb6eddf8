"""The loss curve: windowed means of the loss terms, kept in memory and written as CSV/PNG.

The CSV (``step,epoch,lr,loss/total,...``) is what ``dvc plots`` reads; the PNG is the
picture attached to the MLflow run. Both are rewritten atomically at every checkpoint,
so a resumed run continues the same curve.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import torch

from ivif.io.atomic import atomic_path, atomic_write_text

STEP, EPOCH, LR = "step", "epoch", "lr"


class LossWindow:
    """Running sums of detached loss terms between two log points (no per-step host sync)."""

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._count = 0

    def add(self, terms: Mapping[str, torch.Tensor]) -> None:
        for name, value in terms.items():
            value = value.detach().float()
            self._sums[name] = self._sums[name] + value if name in self._sums else value
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def state_dict(self) -> dict:
        """The partial window, so a resumed run logs the same means as an uninterrupted one."""
        return {"sums": {name: total.cpu() for name, total in self._sums.items()}, "count": self._count}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        self._sums = {name: total.to(device) for name, total in state["sums"].items()}
        self._count = int(state["count"])

    def pop_means(self) -> dict[str, float]:
        """Mean of each term since the last call, as floats; resets the window."""
        means = {name: float(total) / self._count for name, total in self._sums.items()} if self._count else {}
        self._sums, self._count = {}, 0
        return means


class LossHistory:
    """Rows of (step, epoch, lr, loss terms...) in step order."""

    def __init__(self, rows: list[dict[str, float]] | None = None) -> None:
        self.rows: list[dict[str, float]] = list(rows or [])

    def append(self, step: int, epoch: int, lr: float, means: Mapping[str, float]) -> None:
        self.rows.append({STEP: step, EPOCH: epoch, LR: lr, **means})

    def truncate(self, step: int) -> None:
        """Drop rows after ``step`` (a resumed run recomputes them)."""
        self.rows = [row for row in self.rows if row[STEP] <= step]

    def columns(self) -> list[str]:
        names: list[str] = [STEP, EPOCH, LR]
        for row in self.rows:
            names += [key for key in row if key not in names]
        return names

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue()

    def write_csv(self, path: str | Path) -> Path:
        atomic_write_text(path, self.to_csv())
        return Path(path)

    def write_png(self, path: str | Path, title: str = "training loss") -> Path:
        """Plot every ``loss/*`` column against the step (log scale) to a PNG."""
        import matplotlib

        matplotlib.use("Agg")  # no display on servers and in tests
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(6, 4), dpi=100)
        steps = [row[STEP] for row in self.rows]
        for column in self.columns():
            if column.startswith("loss/"):
                axis.plot(steps, [row.get(column, float("nan")) for row in self.rows], label=column[len("loss/") :])
        axis.set_xlabel("step")
        axis.set_ylabel("loss")
        axis.set_yscale("log")
        axis.set_title(title)
        axis.legend()
        figure.tight_layout()
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png")
        plt.close(figure)
        return Path(path)
