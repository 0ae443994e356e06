"""Guest sales: a till records the sale of a shopper who is not a member."""
