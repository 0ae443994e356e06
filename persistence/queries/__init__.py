"""The read side, one module per feature: plain selects into domain values and small frozen
views, batched by key so a DataLoader can ask for a page's worth at once."""
