"""Points: earn, redeem, adjust, checkout, refund, preview; transactions and their feeds."""
