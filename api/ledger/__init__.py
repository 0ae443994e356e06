"""The books: the journal's tamper evidence, reconciliation and period close."""
