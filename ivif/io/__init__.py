"""File-system edges: atomic writes and image reading/writing."""
