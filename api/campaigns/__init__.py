"""Campaigns: bulk awards to lists or segments of customers, and their reversal."""
