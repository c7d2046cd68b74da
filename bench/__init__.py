"""`make bench`: the budgets of ARCHITECTURE.md §9, measured as ratios in one run.

Each measurement is a *section* registered in ``bench.registry``; ``bench.run`` runs them
in order, prints one table per section and writes every number to ``build/bench.json``.
"""
