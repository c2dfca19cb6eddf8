"""What the registry holds: every ``ivif-*`` model's versions, aliases and scores."""

from __future__ import annotations

from dataclasses import dataclass

from ivif.registry.aliases import REGISTERED_PREFIX
from ivif.registry.record import DECISION_TAG, SCORE_TAG_PREFIX
from ivif.tracking.resilient import sweep_quietly


@dataclass(frozen=True)
class VersionRow:
    name: str
    version: str
    aliases: tuple[str, ...]
    run_id: str
    created_ms: int
    decision: str
    scores: dict[str, float]


def list_versions(client, name: str | None = None) -> list[VersionRow]:
    """Rows for ``name`` (an ``ivif-*`` model) or every ``ivif-*`` model, newest last.

    Runs left ``RUNNING`` by a killed training process are marked ``KILLED`` on the way.
    """
    sweep_quietly(client)
    names = [name] if name else [m.name for m in client.search_registered_models(filter_string=f"name LIKE '{REGISTERED_PREFIX}%'")]
    rows = []
    for model_name in sorted(names):
        # search results leave aliases empty; the registered model carries them
        aliases = _aliases_by_version(client.get_registered_model(model_name).aliases)
        for version in client.search_model_versions(f"name='{model_name}'"):
            rows.append(_row(version, aliases.get(str(version.version), ())))
    return sorted(rows, key=lambda r: (r.name, int(r.version)))


def _aliases_by_version(aliases) -> dict[str, tuple[str, ...]]:
    by_version: dict[str, list[str]] = {}
    for alias, version in dict(aliases or {}).items():
        by_version.setdefault(str(version), []).append(alias)
    return {version: tuple(sorted(names)) for version, names in by_version.items()}


def _row(version, aliases: tuple[str, ...]) -> VersionRow:
    tags = version.tags or {}
    scores = {key[len(SCORE_TAG_PREFIX) :]: float(value) for key, value in tags.items() if key.startswith(SCORE_TAG_PREFIX)}
    return VersionRow(
        version.name,
        str(version.version),
        aliases,
        version.run_id or "",
        int(version.creation_timestamp or 0),
        tags.get(DECISION_TAG, ""),
        scores,
    )


def format_table(rows: list[VersionRow]) -> str:
    """Fixed-width text table, one line per version; score columns are the union of all."""
    if not rows:
        return "no ivif models registered (train one: `dvc repro` or `ivif train`)"
    metrics = list(dict.fromkeys(m for row in rows for m in row.scores))
    header = ["model", "version", "aliases", "gate", "run", *metrics]
    lines = [header]
    for row in rows:
        scores = [f"{row.scores[m]:.4g}" if m in row.scores else "-" for m in metrics]
        lines.append([row.name, row.version, ",".join(row.aliases) or "-", row.decision or "-", row.run_id[:8] or "-", *scores])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
