"""Credits: the ledger (ledger), the rate bands (rates) and purchases through Stripe (purchases; Stripe itself
behind clara.domain.credits.ports).

Nothing is imported here, so a module that needs one part does not load the others.
"""
