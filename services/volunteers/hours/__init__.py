"""The service-hour ledger: attendance credits, back-fills, disputes, revocations, totals, stars."""
