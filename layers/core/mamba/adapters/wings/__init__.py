"""The Wings client: the only code that talks to nodes (wings-contract.md §2, §7)."""
