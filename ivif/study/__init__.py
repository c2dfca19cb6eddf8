"""The paradigm study: a grid of training cells (model × paradigm × N × seed × budget ×
data × pairing constraint) over the library's manifests, engine and evaluation, with
statistics and a report.

Modules, in the order a study runs: :mod:`~ivif.study.spec` (the study file),
:mod:`~ivif.study.cells` (expansion, identity), :mod:`~ivif.study.data` (import → shard →
cache), :mod:`~ivif.study.groups` (scene groups), :mod:`~ivif.study.cell` (one cell:
manifest → train → evaluate; ``train_config_for`` / ``run_paths_for``),
:mod:`~ivif.study.epochs` (epochs of at least one batch), :mod:`~ivif.study.tracking`
(MLflow parent/child runs), :mod:`~ivif.study.runner` (processes, progress, estimates),
:mod:`~ivif.study.stats`, :mod:`~ivif.study.collect` and :mod:`~ivif.study.report`.
Entry points: ``python -m flows.study`` (Prefect) and ``ivif study``.
"""
