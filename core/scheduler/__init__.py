"""The refresh scheduler: keeps watchlists fresh within every budget. Each tick it orders the
watched items by (staleness / target age) x importance and enqueues the refreshes of the most
urgent ones until the tick's share of what each budget has left is used, keeping a reserve for
on-demand calls (budget.py: what may be spent; plan.py: what to refresh; tick.py: one tick)."""
