"""Analytics: programme figures over a time range, for the dashboard and its CSV downloads."""
