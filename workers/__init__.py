"""Background work inside each server process, each a loop over a use case: bulk awards,
the outbox relay, expiry.

Every process runs one of each. Workers share the job table: each batch locks
its recipients with FOR UPDATE SKIP LOCKED on PostgreSQL, so several
processes split a job between them, and a batch is one transaction, so a
process killed mid-job leaves nothing half-done: the next worker resumes.
Expiry locks customers the same way and works out what is due under the lock,
so every process may run it on its schedule.
"""
