"""The records clara.store returns and takes, by area: plain models below both the store and the domain, so the
store knows no rule and the domain no item."""
