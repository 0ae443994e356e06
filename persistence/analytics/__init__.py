"""Analytics: the rollups dashboards read, kept from an inbox filled by every write."""
