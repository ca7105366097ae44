"""Points accounts (independent of who holds them) and love supermarkets (爱心超市)."""
