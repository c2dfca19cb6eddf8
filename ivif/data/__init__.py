"""Datasets: registry, fetch, ingest/validation, WebDataset shards and the decoded cache."""
