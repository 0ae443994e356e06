"""Customers: lookup by identifier, enrolment, the Customer type and its history."""
