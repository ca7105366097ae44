"""Bulk import of volunteers from CSV and Excel, in batches, with a per-row report."""
