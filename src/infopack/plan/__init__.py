"""Card budgets: what fits a card, at which media size, and volumes. Stands on `build`."""
