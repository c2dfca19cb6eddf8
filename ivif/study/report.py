"""report.md and figures from a report folder's data files alone (see :mod:`ivif.study.collect`).

:func:`render` reads ``results.csv``, ``per_image.csv``, ``curves.csv``, ``study.json``
(and ``groups.json``, ``gallery/`` when present) and writes ``report.md`` plus
``fig_*.png``. The same files give the same report.md, byte for byte.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ivif.io.atomic import atomic_write_text
from ivif.study.collect import (
    CURVES,
    GALLERY,
    GROUPS_JSON,
    PER_IMAGE,
    RESULTS,
    SCENES_PREFIX,
    STUDY_JSON,
)
from ivif.study.stats import bootstrap_mean_ci, data_multiplier, data_multiplier_ci, holm, wilcoxon_paired

REPORT = "report.md"
PARADIGM_ORDER = ("sptp", "uptp", "aptp")
ALPHA = 0.05
PAPER_MULTIPLIER = 100  # the paper: UPTP/APTP on N pairs ~ SPTP on ~100·N
CLAIM_METRICS = ("VIF", "MI")  # the paper: cross-dataset APTP beats single-dataset SPTP on these
FIG_METRICS = 4  # metrics drawn in the metric-vs-N figure
FLAT_SHARE = 0.10  # a loss curve counts as flat when its second half holds under 10 % of its total drop
CURVE_TAIL = 0.10  # the end of a curve: the mean of its last 10 % of logged points


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, (int, np.integer)):
        return str(x)
    return f"{x:.{digits}g}" if abs(x) >= 1000 or abs(x) < 0.01 else f"{x:.{digits}f}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class _Data:
    def __init__(self, folder: Path):
        self.folder = folder
        self.meta = json.loads((folder / STUDY_JSON).read_text())
        self.metrics: list[str] = self.meta["metrics"]
        self.primary: str = self.meta["primary_metric"]
        self.results = pd.read_csv(
            folder / RESULTS, dtype={"n": str, "seed": str, "ir_group": str, "vis_group": str, "commit": str}, keep_default_na=False
        )
        for col in ("n_base", "steps", "batch_size", "pairs_seen", "wall_s", "train_s", "s_per_step", "patches_per_s",
                    "manifest_build_s", "eval_s", "final_loss", *self.metrics):  # fmt: skip
            self.results[col] = pd.to_numeric(self.results[col], errors="coerce")
        self.images = pd.read_csv(folder / PER_IMAGE, dtype={"image": str}) if (folder / PER_IMAGE).stat().st_size else pd.DataFrame()
        self.curves = pd.read_csv(folder / CURVES)
        self.groups = json.loads((folder / GROUPS_JSON).read_text()) if (folder / GROUPS_JSON).is_file() else None
        done = self.results[self.results.status == "done"]
        self.done = done
        self.train = done[done.kind == "train"]
        # one dataset, no scene constraint: `single` on any dataset (Q3's SPTP on A and on B);
        # `plain` on the study's train dataset only (Q1, Q2, Q5, the reference rows)
        self.single = self.train[(self.train.constraint == "none") & (self.train.ir == self.train.vis)]
        self.plain = self.single[self.single.ir == self.meta["train_dataset"]]

    def seeds_mean(self, frame: pd.DataFrame, metric: str) -> tuple[float, float, float, int]:
        mean, low, high = bootstrap_mean_ci(frame[metric].to_numpy())
        return mean, low, high, len(frame)


def render(folder: str | Path) -> Path:
    """Write ``report.md`` and figures into ``folder`` from its data files; returns report.md."""
    folder = Path(folder)
    if not (folder / RESULTS).is_file():
        raise FileNotFoundError(f"{folder / RESULTS}: no results here; run the study first (python -m flows.study STUDY)")
    data = _Data(folder)
    parts = [_header(data), _q1(data), _q2(data), _q3(data), _q4(data), _q5(data), _q6(data), _reference(data),
             _curves(data), _gallery(data), _failures(data)]  # fmt: skip
    path = folder / REPORT
    atomic_write_text(path, "\n".join(p for p in parts if p))
    return path


# ------------------------------------------------------------------------ parts
def _header(d: _Data) -> str:
    r = d.results
    cells = r.drop_duplicates("cell_id")
    counts = cells.status.value_counts().to_dict()
    m = d.meta
    lines = [
        f"# Paradigm study `{m['name']}`\n",
        f"Study file `{m['study_file']}`; report written at commit `{m['commit']}`, cells run at "
        f"{', '.join(f'`{c}`' for c in sorted(set(d.done.commit.astype(str)) - {''})) or 'an unrecorded commit'}. Train set: **{m['train_dataset']}**; "
        f"test sets: {', '.join(f'**{t}**' for t in m['test_sets'])}"
        + (f" (out of distribution: {', '.join(m['ood_test_sets'])})" if m["ood_test_sets"] else "")
        + ".\n",
        (
            f"Cells: {len(cells)} ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}). "
            f"Headline metric: **{d.primary}** (higher is better); all metrics are in `results.csv`. "
            f"Intervals are 95 % bootstrap intervals over seeds (with few seeds they are coarse: they never reach "
            f"beyond the seeds' own range); p-values are two-sided paired Wilcoxon "
            f"signed-rank tests over test images (per-image scores averaged over seeds), Holm-corrected over every "
            f"comparison in the report's Q1 table.\n"
        ),
        f"Regenerate this file from the data files next to it: `ivif study report {m['report_dir']}`.\n",
    ]
    unfinished = len(cells) - counts.get("done", 0)
    if unfinished:
        lines.insert(1, f"> **Partial report:** {unfinished} of {len(cells)} cells have not finished "
                        f"({', '.join(f'{v} {k}' for k, v in sorted(counts.items()) if k != 'done')}). Every number below comes "
                        f"from the finished cells only; rerun `python -m flows.study {m['study_file']}` to continue "
                        f"(finished cells are skipped).\n")  # fmt: skip
    return "\n".join(lines)


def _paired(d: _Data, cells_a: pd.DataFrame, cells_b: pd.DataFrame, test: str, metric: str) -> tuple[float, int, float]:
    """Wilcoxon of per-image scores (averaged over the cells = seeds) of two cell sets on one test set.

    Returns (p, images, mean difference a − b)."""
    if d.images.empty:
        return math.nan, 0, math.nan
    imgs = d.images[d.images.test_set == test]
    a = imgs[imgs.cell_id.isin(cells_a.cell_id)].groupby("image")[metric].mean()
    b = imgs[imgs.cell_id.isin(cells_b.cell_id)].groupby("image")[metric].mean()
    common = a.index.intersection(b.index)
    if len(common) == 0:
        return math.nan, 0, math.nan
    _, p, used = wilcoxon_paired(a[common].to_numpy(), b[common].to_numpy())
    return p, used, float((a[common] - b[common]).mean())


def _versus(diff: float, p: float, higher: str = "beats", lower: str = "trails") -> str:
    """``beats``/``trails`` when the paired test is significant at ALPHA, else a hedged word."""
    if not math.isfinite(diff):
        return "cannot be compared with"
    if math.isfinite(p) and p < ALPHA:
        return higher if diff > 0 else lower
    return f"is {'above' if diff > 0 else 'below'} (not significant)"


def _n_sort(n: str) -> float:
    return math.inf if n == "all" else float(n)


def _n_label(frame: pd.DataFrame, n: str) -> str:
    if n == "all":
        bases = frame[frame.n == "all"].n_base.dropna()
        return f"all ({int(bases.iloc[0])})" if len(bases) else "all"
    return n


def _q1_comparisons(d: _Data) -> pd.DataFrame:
    """APTP vs SPTP and UPTP vs SPTP at the same model, N and control budget, per test set and metric."""
    budget = d.meta["control_budget"]
    frame = d.plain[d.plain.budget == budget]
    rows = []
    for (model, n, test), group in frame.groupby(["model", "n", "test_set"], sort=True):
        sptp = group[group.paradigm == "sptp"]
        if sptp.empty:
            continue
        for other in ("aptp", "uptp"):
            cells = group[group.paradigm == other]
            if cells.empty:
                continue
            for metric in d.metrics:
                p, used, diff = _paired(d, cells, sptp, test, metric)
                rows.append({"model": model, "n": n, "test_set": test, "comparison": f"{other.upper()} vs SPTP",
                             "metric": metric, "diff": diff, "p": p, "images": used})  # fmt: skip
    out = pd.DataFrame(rows)
    if not out.empty:
        finite = out.p.notna()
        out["p_holm"] = np.nan
        out.loc[finite, "p_holm"] = holm(out.loc[finite, "p"].to_numpy())
    return out


def _q1(d: _Data) -> str:
    head = "## Q1 — Data scale\n\nAPTP/UPTP on N base pairs against SPTP at the same N and on the whole train split, all at equal optimizer steps and batch (the control budget"
    budget = d.meta["control_budget"]
    frame = d.plain[d.plain.budget == budget] if budget else d.plain.iloc[0:0]
    if frame.empty:
        return head + ").\n\n_No cells in this section._\n"
    out = [head + f" `{budget}`).\n"]
    ns = sorted(frame.n.unique(), key=_n_sort)
    for test in d.meta["test_sets"]:
        sub = frame[frame.test_set == test]
        if sub.empty:
            continue
        for model in sorted(sub.model.unique()):
            ms = sub[sub.model == model]
            rows = []
            for n in ns:
                row = [_n_label(ms, n)]
                for paradigm in PARADIGM_ORDER:
                    cells = ms[(ms.n == n) & (ms.paradigm == paradigm)]
                    if cells.empty:
                        row.append("–")
                        continue
                    mean, low, high, k = d.seeds_mean(cells, d.primary)
                    row.append(f"{_fmt(mean)} [{_fmt(low)}, {_fmt(high)}] (k={k})")
                rows.append(row)
            out.append(f"**{model}, test set {test}: {d.primary}, mean [95 % CI] (seeds)**\n")
            out.append(_table(["N", "SPTP", "UPTP", "APTP"], rows))
    fig = _fig_metric_vs_n(d, frame)
    if fig:
        out.append(f"![metrics vs N]({fig})\n")
    comps = _q1_comparisons(d)
    if not comps.empty:
        shown = comps[comps.metric == d.primary]
        rows = [[r.model, _n_label(frame, r.n), r.test_set, r.comparison, _fmt(r.diff, 4), _fmt(r.p), _fmt(r.p_holm), r.images]
                for r in shown.itertuples()]  # fmt: skip
        out.append(
            f"**Paired tests on {d.primary}** (difference = other − SPTP, per-image scores averaged over seeds; all metrics in `q1_tests.csv`)\n"
        )
        out.append(_table(["model", "N", "test set", "comparison", "mean diff", "p", "p (Holm)", "images"], rows))
        atomic_write_text(d.folder / "q1_tests.csv", comps.to_csv(index=False, float_format="%.6g"))
    mult = _multipliers(d, frame)
    if mult:
        out.append(f"**Data multiplier** — the SPTP set size whose {d.primary} (mean over seeds) equals APTP/UPTP at N, "
                   "interpolated linearly in log N on the SPTP curve, divided by N (`>`: beats SPTP at every N, a lower bound; "
                   "`<`: below SPTP at every N, an upper bound), with a 95 % bootstrap interval over seeds (an end at the "
                   "largest or smallest set size is a bound too)\n")  # fmt: skip
        out.append(_table(["model", "test set", "paradigm", "N", "multiplier", "95 % CI"],
                          [[m["model"], m["test"], m["paradigm"], m["n"], m["text"], m["ci"]] for m in mult]))  # fmt: skip
    out.append(_q1_words(d, comps, mult))
    return "\n".join(out)


def _multipliers(d: _Data, frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for (model, test), group in frame.groupby(["model", "test_set"], sort=True):
        sptp = group[group.paradigm == "sptp"]
        curve = sptp.groupby("n").agg(n_base=("n_base", "first"), score=(d.primary, "mean"))
        if len(curve) < 2:
            continue
        per_seed = {float(c.n_base.iloc[0]): c[d.primary].to_numpy(float) for _, c in sptp.groupby("n")}
        for paradigm in ("uptp", "aptp"):
            for n, cells in group[group.paradigm == paradigm].groupby("n", sort=False):
                nb = float(cells.n_base.iloc[0])
                value, note = data_multiplier(nb, float(cells[d.primary].mean()), curve.n_base.to_numpy(float), curve.score.to_numpy(float))
                low, high = data_multiplier_ci(nb, cells[d.primary].to_numpy(float), per_seed)
                rows.append({"model": model, "test": test, "paradigm": paradigm.upper(), "n": _n_label(group, n),
                             "text": f"{note}{_fmt(value, 3)}×", "ci": f"[{_fmt(low, 3)}, {_fmt(high, 3)}]",
                             "value": value, "note": note, "high": high, "cap": max(per_seed) / nb})  # fmt: skip
    rows.sort(key=lambda r: (r["model"], r["test"], r["paradigm"], _n_sort(r["n"].split(" ")[0])))
    return rows


def _q1_words(d: _Data, comps: pd.DataFrame, mult: list[dict[str, Any]]) -> str:
    words = []
    if not comps.empty:
        prim = comps[comps.metric == d.primary]
        sig = prim[prim.p_holm < ALPHA]
        better = sig[sig["diff"] > 0]
        worse = sig[sig["diff"] < 0]
        words.append(f"Of {len(prim)} paired comparisons on {d.primary}, {len(better)} favour the unpaired paradigm and "
                     f"{len(worse)} favour SPTP after Holm correction (α = {ALPHA}); the other {len(prim) - len(sig)} show no "
                     "significant difference.")  # fmt: skip
        largest = prim.loc[prim["diff"].abs().idxmax()] if prim["diff"].notna().any() else None
        if largest is not None:
            words.append(f"The largest mean difference is {_fmt(largest['diff'], 4)} ({largest.comparison}, N={largest.n}, "
                         f"{largest.test_set}, p(Holm)={_fmt(largest.p_holm)}).")  # fmt: skip
    if mult:
        # refuted: the whole interval below 100x and below the study's largest set (an end there is only a bound)
        held = [m for m in mult if m["value"] >= PAPER_MULTIPLIER and m["note"] != "<"]
        failed = [m for m in mult if m not in held and m["high"] < min(PAPER_MULTIPLIER, m["cap"] * (1 - 1e-9))]
        bound = [m for m in mult if m not in held and m not in failed and m["note"] == ">"]
        wide = [m for m in mult if m not in held and m not in failed and m not in bound]
        describe = lambda ms: ", ".join(f"{m['paradigm']} N={m['n']} on {m['test']} ({m['text']} {m['ci']})" for m in ms)
        if held:
            words.append(f"The paper's claim (UPTP/APTP on N ≈ SPTP on ~{PAPER_MULTIPLIER}·N) holds for {describe(held)}.")
        if failed:
            words.append(f"It did **not** hold for {describe(failed)}: there the unpaired paradigm matches an SPTP set "
                         f"less than {PAPER_MULTIPLIER}× larger, over the whole 95 % interval.")  # fmt: skip
        if bound:
            words.append(f"Undecided for {describe(bound)}: they beat SPTP on every set size in the study, but the largest "
                         f"is less than {PAPER_MULTIPLIER}·N, so the multiplier is only a lower bound.")  # fmt: skip
        if wide:
            words.append(f"Undecided for {describe(wide)}: the estimate is below {PAPER_MULTIPLIER}×, but its interval "
                         "reaches the largest set size, where the multiplier is only a bound.")  # fmt: skip
        if all(m["cap"] < PAPER_MULTIPLIER for m in mult):
            words.append(f"The study's largest SPTP set is under {PAPER_MULTIPLIER}·N for every N, so it can refute the "
                         f"~{PAPER_MULTIPLIER}× claim but never confirm it.")  # fmt: skip
    if not words:
        words.append("Too few cells for a comparison (SPTP and an unpaired paradigm at the same N are needed).")
    return "**In plain words.** " + " ".join(words) + "\n"


def _q2(d: _Data) -> str:
    head = "## Q2 — Iterations vs diversity\n\nThe same model and N under equal steps, the paper's protocol (an APTP epoch of 100·N pairs, an SPTP epoch of N) and longer SPTP runs.\n"
    frame = d.plain
    budgets = sorted(frame.budget.unique())
    if len(budgets) < 2:
        return head + "\n_No cells in this section (it needs two or more budgets)._\n"
    out = [head]
    words = []
    for (model, n, test), group in frame.groupby(["model", "n", "test_set"], sort=True):
        if group.budget.nunique() < 2:
            continue
        rows = []
        for (budget, paradigm), cells in sorted(
            group.groupby(["budget", "paradigm"]), key=lambda kv: (kv[0][0], PARADIGM_ORDER.index(kv[0][1]))
        ):
            mean, low, high, k = d.seeds_mean(cells, d.primary)
            rows.append(
                [
                    budget,
                    paradigm.upper(),
                    int(cells.steps.mean()),
                    int(cells.pairs_seen.mean()),
                    f"{_fmt(mean)} [{_fmt(low)}, {_fmt(high)}]",
                    k,
                ]
            )
        out.append(f"**{model}, N={_n_label(group, n)}, test set {test}**\n")
        out.append(_table(["budget", "paradigm", "steps", "pairs seen", d.primary, "seeds"], rows))
        words += _q2_words(d, model, n, test, group)
    if words:
        out.append("**In plain words.** " + " ".join(words) + " Diversity is what APTP adds at equal steps; iterations are what "
                   "more steps add to SPTP. Where the APTP − SPTP gap is larger under the paper's protocol than at equal steps, "
                   "part of the paper's APTP advantage came from more iterations, not from more diverse pairs.\n")  # fmt: skip
    else:
        out.append(
            "**In plain words.** No model/N has both an equal-steps and another budget with SPTP and APTP cells, so iterations and diversity cannot be separated here.\n"
        )
    return "\n".join(out)


def _q2_words(d: _Data, model: str, n: str, test: str, group: pd.DataFrame) -> list[str]:
    """Iterations (more SPTP steps) against diversity (APTP at equal steps) for one model, N and test set."""
    control = d.meta["control_budget"]
    c = group[group.budget == control]
    gap_c = _gap(c, d.primary)
    sptp_c = c[c.paradigm == "sptp"]
    words = []
    for budget in sorted(set(group.budget) - {control}):
        b = group[group.budget == budget]
        gap_b = _gap(b, d.primary)
        steps = b.groupby("paradigm").steps.mean().to_dict()
        step_text = ", ".join(f"{p.upper()} {int(s)}" for p, s in sorted(steps.items(), key=lambda kv: PARADIGM_ORDER.index(kv[0])))
        if gap_b is not None and gap_c is not None:
            size = "larger" if gap_b > gap_c else "smaller"
            words.append(f"{model} N={n} on {test}: APTP − SPTP is {_fmt(gap_c, 4)} at equal steps and {_fmt(gap_b, 4)} under "
                         f"`{budget}` (steps {step_text}), {size}.")  # fmt: skip
        sptp_b = b[b.paradigm == "sptp"]
        if gap_c is not None and not sptp_b.empty and not sptp_c.empty and sptp_b.steps.mean() > sptp_c.steps.mean():
            gain = float(sptp_b[d.primary].mean() - sptp_c[d.primary].mean())
            ratio = sptp_b.steps.mean() / sptp_c.steps.mean()
            more = "more than" if gain > gap_c else "less than"
            words.append(f"{model} N={n} on {test}: {_fmt(ratio, 2)}× the steps on SPTP (`{budget}`) adds {_fmt(gain, 4)} "
                         f"{d.primary}, {more} APTP's diversity adds at equal steps ({_fmt(gap_c, 4)}).")  # fmt: skip
    return words


def _gap(cells: pd.DataFrame, metric: str) -> float | None:
    a = cells[cells.paradigm == "aptp"][metric]
    s = cells[cells.paradigm == "sptp"][metric]
    if a.empty or s.empty:
        return None
    return float(a.mean() - s.mean())


def _q3(d: _Data) -> str:
    head = (
        "## Q3 — Cross-dataset pairing\n\nIR of dataset A × visible of dataset B against SPTP on A and SPTP on B (same model, "
        "N, budget and, where SPTP has them, the same seeds), on every test set.\n"
    )
    cross = d.train[(d.train.ir != d.train.vis) & (d.train.constraint == "none")]
    if cross.empty:
        return head + "\n_No cells in this section._\n"
    out = [head]
    rows, words = [], []
    metrics = [d.primary] + [m for m in CLAIM_METRICS if m in d.metrics and m != d.primary]  # the paper's claim: MI and VIF
    for (model, n, budget, ir, vis, paradigm, test), cells in cross.groupby(
        ["model", "n", "budget", "ir", "vis", "paradigm", "test_set"], sort=True
    ):
        single = d.single[(d.single.model == model) & (d.single.n == n) & (d.single.budget == budget)
                          & (d.single.paradigm == "sptp") & (d.single.test_set == test)]  # fmt: skip
        base, other = _same_seeds(single[single.ir == ir], cells), _same_seeds(single[single.ir == vis], cells)
        mean = cells[d.primary].mean()
        p, _, _ = _paired(d, cells, base, test, d.primary) if not base.empty else (math.nan, 0, math.nan)
        rows.append([model, n, f"{ir} × {vis}", paradigm.upper(), test, _fmt(mean),
                     _fmt(base[d.primary].mean()) if not base.empty else "–",
                     _fmt(other[d.primary].mean()) if not other.empty else "–", _fmt(p)])  # fmt: skip
        for metric in metrics:
            words += _q3_words(d, cells, base, other, test, metric)
    out.append(_table(["model", "N", "IR × VIS", "paradigm", "test set", d.primary, "SPTP on A", "SPTP on B", "p vs SPTP A"], rows))
    out.append("**In plain words.** " + (" ".join(words) or "No matching SPTP cells to compare with.")
               + f" The paper claims cross-dataset APTP beats single-dataset SPTP on {' and '.join(metrics)}; where a sentence "
               "says *does not beat*, that claim did not hold here, and *not significant* means this study cannot tell.\n")  # fmt: skip
    return "\n".join(out)


def _q3_words(d: _Data, cells: pd.DataFrame, base: pd.DataFrame, other: pd.DataFrame, test: str, metric: str) -> list[str]:
    """One cross-dataset cell group against SPTP on A (``base``) and on B (``other``) on one test set and metric."""
    first = cells.iloc[0]
    words = []
    for name, sptp in ((first.ir, base), (first.vis, other)):
        if sptp.empty:
            continue
        p, _, diff = _paired(d, cells, sptp, test, metric)
        words.append(f"On {test}, {first.paradigm.upper()} {first.ir}×{first.vis} {_versus(diff, p, lower='does not beat')} "
                     f"SPTP on {name} ({metric} {_fmt(cells[metric].mean())} vs {_fmt(sptp[metric].mean())}, p={_fmt(p)}).")  # fmt: skip
    return words


def _same_seeds(frame: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` run with the seeds of ``cells``; all of ``frame`` when none match."""
    matched = frame[frame.seed.isin(cells.seed)]
    return matched if not matched.empty else frame


def _q4(d: _Data) -> str:
    head = "## Q4 — Scene mismatch\n\nPairs drawn only across scene groups against pairs drawn only within one group (same model, paradigm, N, budget).\n"
    cons = d.train[d.train.constraint != "none"]
    if cons.empty:
        return head + "\n_No cells in this section._\n"
    out = [head]
    if d.groups:
        rule = d.groups["rule"]
        out.append(
            f"Groups by `{rule['by']}`"
            + (f" (threshold {_fmt(rule['threshold'])} on visible mean luma)" if "threshold" in rule else "")
            + ":\n"
        )
        rows = []
        for part in ("train", "test"):
            for dataset, groups in sorted(d.groups["summary"].get(part, {}).items()):
                for group, info in sorted(groups.items()):
                    rows.append([part, dataset, group, info["count"], ", ".join(info["examples"])])
        out.append(_table(["split", "dataset", "group", "images", "examples"], rows))
    rows, words = [], []
    for (model, n, _budget, paradigm, test), group in cons.groupby(["model", "n", "budget", "paradigm", "test_set"], sort=True):
        within = group[group.constraint == "within"]
        across = group[group.constraint == "across"]
        for (constraint, ig, vg), cells in group.groupby(["constraint", "ir_group", "vis_group"], sort=True):
            rows.append([model, n, paradigm.upper(), test, constraint, f"{ig} × {vg}", _fmt(cells[d.primary].mean()), len(cells)])
        if not within.empty and not across.empty:
            p, used, diff = _paired(d, across, within, test, d.primary)
            verdict = _versus(diff, p, higher="scores higher than", lower="scores lower than")
            words.append(f"{paradigm.upper()} N={n} on {test}: across − within = {_fmt(diff, 4)} {d.primary} (p={_fmt(p)}, {used} "
                         f"images): across-group pairing {verdict} within-group pairing.")  # fmt: skip
            worst = _worst_images(d, across, within, test)
            if worst:
                words.append(f"Failure cases (across trails within most): {', '.join(worst)}.")
    out.append(_table(["model", "N", "paradigm", "test set", "constraint", "IR group × VIS group", d.primary, "seeds"], rows))
    out += _scene_strips(d)
    out.append(
        "**In plain words.** "
        + (" ".join(words) or "No cell has both constraints to compare.")
        + " A negative across − within means pairing images from different scenes hurt; the paper did not test this.\n"
    )
    return "\n".join(out)


def _scene_strips(d: _Data) -> list[str]:
    """Q4's failure cases: the gallery strips of the scene-constrained cells, when collected."""
    folder = d.folder / GALLERY
    pngs = sorted(folder.glob(f"{SCENES_PREFIX}*.png")) if folder.is_dir() else []
    if not pngs:
        return []
    info = json.loads((folder / "gallery.json").read_text()).get("scenes", {}) if (folder / "gallery.json").is_file() else {}
    lines = [f"Failure cases: per test set, the images where across-group pairing trails within-group pairing most on "
             f"{d.primary} (mean over the across cells minus mean over the within cells), fused by each scene cell "
             f"({info.get('model', '?')}, N={info.get('n', '?')}, seed {info.get('seed', '?')}).\n"]  # fmt: skip
    for p in pngs:
        test = p.stem.removeprefix(SCENES_PREFIX)
        lines.append(f"**{test}**\n\n![scene failure cases {test}]({GALLERY}/{p.name})\n")
    return lines


def _worst_images(d: _Data, a: pd.DataFrame, b: pd.DataFrame, test: str, count: int = 3) -> list[str]:
    if d.images.empty:
        return []
    imgs = d.images[d.images.test_set == test]
    sa = imgs[imgs.cell_id.isin(a.cell_id)].groupby("image")[d.primary].mean()
    sb = imgs[imgs.cell_id.isin(b.cell_id)].groupby("image")[d.primary].mean()
    diff = (sa - sb).dropna().sort_values()
    group_of = (d.groups or {}).get("test", {}).get(test, {})
    return [
        f"{name} ({_fmt(v, 3)}" + (f", group {group_of[name]})" if name in group_of else ")")
        for name, v in diff.iloc[:count].items()
        if v < 0
    ]


def _q5(d: _Data) -> str:
    budget = d.meta["control_budget"]
    head = (f"## Q5 — Architectures\n\nThe APTP − SPTP gain of each model at the same N under the control budget `{budget}` "
            "(equal steps: other budgets give the paradigms different step counts, see Q2).\n")  # fmt: skip
    frame = d.plain[d.plain.budget == budget]
    if frame.model.nunique() < 2:
        return head + "\n_No cells in this section (it needs two or more models)._\n"
    rows, gains, significant = [], {}, {}
    for (model, n, budget, test), group in frame.groupby(["model", "n", "budget", "test_set"], sort=True):
        gap = _gap(group, d.primary)
        if gap is None:
            continue
        p, _, _ = _paired(d, group[group.paradigm == "aptp"], group[group.paradigm == "sptp"], test, d.primary)
        rows.append([model, _n_label(group, n), budget, test, _fmt(group[group.paradigm == "sptp"][d.primary].mean()),
                     _fmt(group[group.paradigm == "aptp"][d.primary].mean()), _fmt(gap, 4), _fmt(p)])  # fmt: skip
        gains.setdefault(model, {})[(n, test)] = gap
        significant.setdefault(model, {})[(n, test)] = bool(math.isfinite(p) and p < ALPHA and gap > 0)
    out = [head, _table(["model", "N", "budget", "test set", "SPTP", "APTP", "gain", "p"], rows)]
    shared = set.intersection(*(set(g) for g in gains.values())) if gains else set()
    if shared:  # every model compared on the same N and test sets
        mean_gain = {m: float(np.mean([g[k] for k in shared])) for m, g in gains.items()}
        text = ", ".join(f"{m} {_fmt(g, 4)} (significant gains in {sum(significant[m][k] for k in shared)} of {len(shared)}, "
                         f"uncorrected p < {ALPHA})" for m, g in sorted(mean_gain.items()))  # fmt: skip
        where = f"N = {', '.join(sorted({_n_label(frame, n) for n, _ in shared}, key=_n_sort))}"
        gan = mean_gain.get("gan")
        others = [g for m, g in mean_gain.items() if m != "gan"]
        if gan is not None and others:
            verdict = ("the GAN gains less than the other models, as the paper says" if gan < min(others)
                       else "the GAN does **not** gain less than every other model — the paper's claim did not hold here")  # fmt: skip
        else:
            verdict = "no GAN cells to check the paper's claim that the GAN gains less"
        seeds = frame[frame.n.isin({n for n, _ in shared})].groupby(["model", "n", "test_set", "paradigm"]).size().min()
        caveat = f" With {seeds} seed per cell this is a weak test." if seeds < 2 else ""
        out.append(f"**In plain words.** Mean APTP − SPTP gain on {d.primary} over the N and test sets every model has "
                   f"({where}): {text}; {verdict}.{caveat}\n")  # fmt: skip
    else:
        out.append("**In plain words.** No N and test set where every model has both SPTP and APTP cells.\n")
    return "\n".join(out)


def _q6(d: _Data) -> str:
    head = "## Q6 — Cost\n\nSeconds per optimizer step, patches per second and manifest build time per paradigm, at equal pair counts (the control budget).\n"
    budget = d.meta["control_budget"]
    frame = d.train[d.train.budget == budget].drop_duplicates("cell_id")
    if frame.empty:
        return head + "\n_No cells in this section._\n"
    rows = []
    for (model, paradigm), cells in sorted(frame.groupby(["model", "paradigm"]), key=lambda kv: (kv[0][0], PARADIGM_ORDER.index(kv[0][1]))):
        rows.append([model, paradigm.upper(), len(cells), _fmt(cells.s_per_step.mean(), 3), _fmt(cells.patches_per_s.mean(), 3),
                     _fmt(cells.manifest_build_s.mean(), 3), _fmt(cells.train_s.sum(), 3), _fmt(cells.wall_s.sum(), 3)])  # fmt: skip
    per = frame.groupby("paradigm").s_per_step.mean()
    spread = (per.max() / per.min()) if len(per) > 1 and per.min() > 0 else math.nan
    words = (f"At equal steps and batch the paradigms differ in cost by a factor {_fmt(spread, 3)} in s/step "
             "(the pairing policy changes only which pairs are read, so a factor near 1 is expected); manifest building "
             f"takes at most {_fmt(frame.manifest_build_s.max(), 3)} s. The paper's protocol costs more for APTP/UPTP only "
             "because their epochs are 100× longer (see Q2).")  # fmt: skip
    steps = frame.s_per_step.dropna()
    if len(steps) > 1 and steps.min() > 0 and steps.max() / steps.min() > spread:
        words += (f" Single cells ranged from {_fmt(steps.min(), 3)} to {_fmt(steps.max(), 3)} s/step (a factor "
                  f"{_fmt(steps.max() / steps.min(), 3)}), more than the paradigms differ: that spread is the machine's load "
                  "(cells run side by side, other jobs), not the pairing.")  # fmt: skip
    return "\n".join([head, _table(["model", "paradigm", "cells", "s/step", "patches/s", "manifest build s", "train s (sum)", "wall s (sum)"], rows),
                      "**In plain words.** " + words + "\n"])  # fmt: skip


def _reference(d: _Data) -> str:
    head = "## Reference — released upstream weights\n\nThe released models scored on the same test sets with the same evaluator.\n"
    refs = d.done[d.done.kind == "reference"]
    if refs.empty:
        return head + "\n_No cells in this section._\n"
    rows, words = [], []
    for r in refs.itertuples():
        rows.append([r.model, r.test_set, *[_fmt(getattr(r, m)) for m in d.metrics]])
        trained = d.plain[d.plain.test_set == r.test_set]
        same = [m for m in trained.model.unique() if m in str(r.model).split("-")]  # upstream-cnn -> the cnn cells
        trained = trained[trained.model == same[0]] if len(same) == 1 else trained
        if not trained.empty:
            best = trained.groupby(["model", "paradigm", "n", "budget"])[d.primary].mean()
            (bm, bp, bn, bb), value = best.idxmax(), best.max()
            ref_value = getattr(r, d.primary)
            words.append(f"on {r.test_set} the released {r.model} scores {_fmt(ref_value)} {d.primary}; the best "
                         f"{'same-model ' if len(same) == 1 else ''}study cell (mean over seeds: {bm}/{bp.upper()} N={bn}, {bb}) "
                         f"{_fmt(value)} ({'above' if value > ref_value else 'below'} it).")  # fmt: skip
    out = [head, _table(["model", "test set", *d.metrics], rows)]
    out.append("**In plain words.** " + (" ".join(w[0].upper() + w[1:] for w in words) or "No trained cells to compare with.") + "\n")
    return "\n".join(out)


def _curves(d: _Data) -> str:
    if d.curves.empty:
        return "## Training curves\n\n_No curves recorded._\n"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = d.train.drop_duplicates("cell_id").set_index("cell_id")
    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {"sptp": "tab:blue", "uptp": "tab:orange", "aptp": "tab:green"}
    shares = []
    control = d.meta["control_budget"]
    for cell_id, curve in d.curves.groupby("cell_id", sort=True):
        if cell_id not in cells.index:
            continue
        info = cells.loc[cell_id]
        ax.plot(curve.step, curve.loss_total, color=colours.get(info.paradigm, "gray"), alpha=0.5, lw=0.8)
        share = late_share(curve.loss_total.to_numpy())
        if info.budget == control and math.isfinite(share):
            shares.append((share, info.label))
    for p, c in colours.items():
        ax.plot([], [], color=c, label=p.upper())
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(d.folder / "fig_curves.png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    text = "## Training curves\n\n![training curves](fig_curves.png)\n\n"
    if not shares:
        return text + "Flatness check: no curve at the control budget has enough logged points.\n"
    values = np.array([v for v, _ in shares])
    worst = max(shares)
    flat = int((values < FLAT_SHARE).sum())
    verdict = ("the curves have flattened at this budget" if np.median(values) < FLAT_SHARE
               else "the curves were still falling: more steps would change the results")  # fmt: skip
    text += (f"Flatness check (budget `{control}`): for each cell, the share of its total loss drop (first logged step to the mean "
             f"of its last {int(100 * CURVE_TAIL)} % of points) that came in the second half of training. Median "
             f"{_fmt(100 * float(np.median(values)), 2)} %, largest {_fmt(100 * worst[0], 2)} % ({worst[1]}); {flat} of "
             f"{len(values)} cells under {int(100 * FLAT_SHARE)} %: {verdict}.")  # fmt: skip
    text += _longer_run_words(d, cells)
    return text + "\n"


def late_share(losses: np.ndarray) -> float:
    """Share of a loss curve's total drop that happens in its second half.

    ``losses``: (T,) logged losses in step order. The drop runs from the first point to the mean
    of the last ``CURVE_TAIL`` of points; the second half's drop from the mean of the points around
    the midpoint (same window) to that end. 0 means flat from mid-training, 0.5 a steady
    linear fall. NaN when the curve has under 4 points or did not fall."""
    x = np.asarray(losses, dtype=np.float64)
    if x.size < 4:
        return math.nan
    w = _tail_width(x.size)
    end = _tail_mean(x)
    mid = x[max(0, x.size // 2 - w // 2) : x.size // 2 - w // 2 + w].mean()
    total = x[0] - end
    return float((mid - end) / total) if total > 0 else math.nan


def _tail_width(points: int) -> int:
    return max(1, int(round(CURVE_TAIL * points)))


def _tail_mean(losses: np.ndarray) -> float:
    """The end of a curve: the mean of its last ``CURVE_TAIL`` of points."""
    return float(np.asarray(losses, dtype=np.float64)[-_tail_width(len(losses)) :].mean())


def _longer_run_words(d: _Data, cells: pd.DataFrame) -> str:
    """How much further the loss fell in runs longer than the control budget, past the control's last step."""
    control = d.meta["control_budget"]
    base_steps = cells[cells.budget == control].steps.max()
    if not math.isfinite(base_steps):
        return ""
    words = []
    for cell_id, info in cells[(cells.budget != control) & (cells.steps > base_steps)].iterrows():
        curve = d.curves[d.curves.cell_id == cell_id]
        at_base = curve[curve.step <= base_steps].loss_total.to_numpy()
        if len(at_base) < 4 or len(curve) < 4:
            continue
        before, after = _tail_mean(at_base), _tail_mean(curve.loss_total.to_numpy())
        words.append(f"{info.label} ({int(info.steps)} steps): the loss fell a further {_fmt(100 * (before - after) / before, 2)} % "
                     f"after step {int(base_steps)}")  # fmt: skip
    if not words:
        return ""
    return (" Longer runs: " + "; ".join(words) + ". So the loss has not fully converged at the control budget; Q2 shows "
            "what those extra steps change in the metrics.")  # fmt: skip


def _fig_metric_vs_n(d: _Data, frame: pd.DataFrame) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [d.primary] + [m for m in d.metrics if m != d.primary][: FIG_METRICS - 1]
    tests = [t for t in d.meta["test_sets"] if not frame[frame.test_set == t].empty]
    if not tests or frame.n.nunique() < 1:
        return None
    fig, axes = plt.subplots(len(tests), len(metrics), figsize=(3.2 * len(metrics), 2.8 * len(tests)), squeeze=False)
    colours = {"sptp": "tab:blue", "uptp": "tab:orange", "aptp": "tab:green"}
    for row, test in enumerate(tests):
        sub = frame[frame.test_set == test]
        for col, metric in enumerate(metrics):
            ax = axes[row, col]
            for (model, paradigm), cells in sub.groupby(["model", "paradigm"], sort=True):
                points = []
                for _n, c in cells.groupby("n"):
                    mean, low, high = bootstrap_mean_ci(c[metric].to_numpy())
                    points.append((float(c.n_base.iloc[0]), mean, low, high))
                points.sort()
                xs, ms, lo, hi = (np.array(v) for v in zip(*points))
                style = "-" if model == "cnn" else "--"
                ax.plot(xs, ms, style, marker="o", ms=3, color=colours[paradigm], label=f"{model}/{paradigm.upper()}")
                ax.fill_between(xs, lo, hi, color=colours[paradigm], alpha=0.15)
            ax.set_xscale("log")
            ax.set_xlabel("N base pairs (log)")
            ax.set_title(f"{metric} — {test}", fontsize=9)
            if row == 0 and col == 0:
                ax.legend(fontsize=6)
    fig.tight_layout()
    name = "fig_metric_vs_n.png"
    fig.savefig(d.folder / name, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return name


def _gallery(d: _Data) -> str:
    folder = d.folder / GALLERY
    pngs = sorted(p for p in folder.glob("*.png") if not p.name.startswith(SCENES_PREFIX)) if folder.is_dir() else []
    if not pngs:
        return "## Gallery\n\n_No gallery (the fused thumbnails live in the study's work dir; run `ivif study report STUDY.yaml` there)._\n"
    info = json.loads((folder / "gallery.json").read_text()) if (folder / "gallery.json").is_file() else {}
    lines = [(f"## Gallery\n\nThe same test images fused by each paradigm ({info.get('model', '?')}, N={info.get('n', '?')}, "
             f"seed {info.get('seed', '?')}, budget `{info.get('budget', '?')}`), then the images where APTP trails SPTP most on {d.primary}.\n")]  # fmt: skip
    lines += [f"**{p.stem}**\n\n![gallery {p.stem}]({GALLERY}/{p.name})\n" for p in pngs]
    return "\n".join(lines)


def _failures(d: _Data) -> str:
    failed = d.results[d.results.status != "done"].drop_duplicates("cell_id")
    if failed.empty:
        return "## Failed or unfinished cells\n\nNone.\n"
    rows = [[r.short_id, r.label, r.status, (r.error or "").replace("|", "/").replace("\n", " ")[:200]] for r in failed.itertuples()]
    return "## Failed or unfinished cells\n\n" + _table(["cell", "label", "status", "error"], rows)
