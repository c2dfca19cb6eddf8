"""Pieces of the scheduled retraining that are not Prefect-specific: its config, the DVC
stage runner, the trainer allow-list and cron validation. ``flows/retrain.py`` wires them
into a Prefect flow."""
