"""Bulk award jobs and their recipients: created set-based, worked off in locked batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaigns import (
    HOLDOUT_BUCKETS,
    BulkAward,
    BulkAwardStatus,
    Recipient,
    RecipientStatus,
    Segment,
    held_out,
    holdout_threshold,
)
from domain.errors import DomainError, InvalidInput
from persistence.analytics.inbox import Counted, enqueue
from persistence.base import table_of
from persistence.database import insert_or_ignore
from persistence.models import BulkAwardRecipientRow, BulkAwardRow, CustomerRow, SaleRow
from persistence.records import actor_columns, actor_of, columns_of, record_of


class SqlAlchemyBulkAwardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, job: BulkAward, fingerprint: str) -> tuple[BulkAward, str] | None:
        """Create the job under its idempotency key, or return the job that holds the key."""
        try:
            claimed = await self.session.execute(
                insert_or_ignore(self.session, BulkAwardRow)
                .values(_job_values(job, fingerprint))
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(BulkAwardRow.id)
            )
        except IntegrityError:
            # Only the one-reversal-per-job constraint can clash here: a race lost.
            raise InvalidInput(
                f"bulk award {job.reverses_id} was reversed already", ("input", "bulkAwardId")
            ) from None
        if claimed.first() is not None:
            return None
        query = select(BulkAwardRow).where(BulkAwardRow.idempotency_key == job.idempotency_key)
        row = (await self.session.execute(query)).scalar_one()
        return bulk_award_of(row), row.fingerprint

    async def add_recipients(
        self, bulk_award_id: str, customer_ids: Sequence[str], holdout: frozenset[str]
    ) -> None:
        rows = [
            {
                "bulk_award_id": bulk_award_id,
                "customer_id": customer_id,
                "position": position,
                "status": _status(customer_id in holdout),
            }
            for position, customer_id in enumerate(customer_ids)
        ]
        await self.session.execute(insert(BulkAwardRecipientRow), rows)
        await enqueue(self.session, Counted.HOLDOUT, [bulk_award_id])

    async def add_segment(
        self, bulk_award_id: str, segment: Segment, holdout_percent: int
    ) -> tuple[int, int]:
        chosen = _segment_query(segment)
        in_sql = self._is_postgresql and holdout_percent > 0
        status = (
            _holdout_status(bulk_award_id, chosen.c.id, holdout_percent)
            if in_sql
            else literal(RecipientStatus.PENDING.value)
        )
        numbered = select(
            literal(bulk_award_id),
            chosen.c.id,
            func.row_number().over(order_by=chosen.c.id),
            status,
        )
        await self._insert_recipients(numbered)
        if holdout_percent > 0 and not in_sql:
            await self._hold_out(bulk_award_id, holdout_percent)
        counts = await self._count_recipients(bulk_award_id)
        await enqueue(self.session, Counted.HOLDOUT, [bulk_award_id])
        return counts

    async def _insert_recipients(self, recipients: Select[str, str, int, str]) -> None:
        await self.session.execute(
            insert(BulkAwardRecipientRow).from_select(
                ["bulk_award_id", "customer_id", "position", "status"], recipients
            )
        )
        if self._is_postgresql:
            # Fresh statistics, so batches use the index of pending recipients at once.
            await self.session.execute(text("ANALYZE bulk_award_recipients"))

    async def _hold_out(self, bulk_award_id: str, holdout_percent: int) -> None:
        """Without the hash in SQL (SQLite): the job's recipients read, decided here, and
        the held out marked by key."""
        listed = await self.session.scalars(
            select(BulkAwardRecipientRow.customer_id).where(
                BulkAwardRecipientRow.bulk_award_id == bulk_award_id
            )
        )
        chosen = held_out(bulk_award_id, listed, holdout_percent)
        if not chosen:
            return
        table = table_of(BulkAwardRecipientRow)
        statement = (
            update(table)
            .where(
                table.c.bulk_award_id == bindparam("key_job"),
                table.c.customer_id == bindparam("key_customer"),
            )
            .values(status=RecipientStatus.HOLDOUT.value)
        )
        keys = [{"key_job": bulk_award_id, "key_customer": customer} for customer in chosen]
        await self.session.execute(statement, keys)

    async def _count_recipients(self, bulk_award_id: str) -> tuple[int, int]:
        """The job's recipients and, of them, those held out, stored on the job."""
        recipients = BulkAwardRecipientRow
        holdout = func.count().filter(recipients.status == RecipientStatus.HOLDOUT.value)
        row = (
            await self.session.execute(
                select(func.count(), holdout).where(recipients.bulk_award_id == bulk_award_id)
            )
        ).one()
        total, held = int(row[0] or 0), int(row[1] or 0)
        await self.session.execute(
            update(BulkAwardRow)
            .where(BulkAwardRow.id == bulk_award_id)
            .values(total_customers=total, holdout_customers=held)
        )
        return total, held

    @property
    def _is_postgresql(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

    async def add_reversal_recipients(self, bulk_award_id: str, reversed_id: str) -> int:
        awarded = select(
            literal(bulk_award_id),
            BulkAwardRecipientRow.customer_id,
            BulkAwardRecipientRow.position,
            literal(RecipientStatus.PENDING.value),
        ).where(
            BulkAwardRecipientRow.bulk_award_id == reversed_id,
            BulkAwardRecipientRow.status == RecipientStatus.AWARDED.value,
        )
        await self._insert_recipients(awarded)
        total, _ = await self._count_recipients(bulk_award_id)
        return total

    async def reversed_entries(self, batch: Sequence[Recipient]) -> dict[Recipient, int]:
        jobs = {recipient.bulk_award_id for recipient in batch}
        reversals = dict(
            (
                await self.session.execute(
                    select(BulkAwardRow.id, BulkAwardRow.reverses_bulk_award_id).where(
                        BulkAwardRow.id.in_(jobs), BulkAwardRow.reverses_bulk_award_id.is_not(None)
                    )
                )
            ).all()
        )
        wanted = [r for r in batch if r.bulk_award_id in reversals]
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(
                BulkAwardRecipientRow.bulk_award_id,
                BulkAwardRecipientRow.customer_id,
                BulkAwardRecipientRow.entry_id,
            ).where(
                BulkAwardRecipientRow.bulk_award_id.in_(set(reversals.values())),
                BulkAwardRecipientRow.customer_id.in_({r.customer_id for r in wanted}),
            )
        )
        entries = {(job, customer): entry for job, customer, entry in rows if entry is not None}
        found = {r: entries.get((str(reversals[r.bulk_award_id]), r.customer_id)) for r in wanted}
        return {recipient: entry for recipient, entry in found.items() if entry is not None}

    async def next_batch(self, limit: int) -> list[Recipient]:
        """Pending recipients, oldest job first, locked; rows another worker holds are skipped."""
        query = (
            select(BulkAwardRecipientRow.bulk_award_id, BulkAwardRecipientRow.customer_id)
            .where(BulkAwardRecipientRow.status == RecipientStatus.PENDING.value)
            .order_by(BulkAwardRecipientRow.bulk_award_id, BulkAwardRecipientRow.position)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.session.execute(query)
        return [
            Recipient(bulk_award_id=job_id, customer_id=customer_id) for job_id, customer_id in rows
        ]

    async def get(self, bulk_award_id: str) -> BulkAward | None:
        row = await self.session.get(BulkAwardRow, bulk_award_id)
        return None if row is None else bulk_award_of(row)

    async def mark_many(
        self,
        awarded: Sequence[tuple[Recipient, int]],
        failed: Sequence[tuple[Recipient, DomainError]],
    ) -> None:
        rows = [
            _recipient_key(recipient) | {"status": RecipientStatus.AWARDED.value, "entry_id": entry}
            for recipient, entry in awarded
        ] + [
            _recipient_key(recipient)
            | {
                "status": RecipientStatus.FAILED.value,
                "failure_code": error.code.value,
                "failure_message": error.message[:200],
            }
            for recipient, error in failed
        ]
        table = table_of(BulkAwardRecipientRow)
        for same_columns in _grouped_by_columns(rows):
            values = [column for column in same_columns[0] if column not in RECIPIENT_KEY]
            statement = (
                update(table)
                .where(
                    table.c.bulk_award_id == bindparam("key_job"),
                    table.c.customer_id == bindparam("key_customer"),
                )
                .values({column: bindparam(f"new_{column}") for column in values})
            )
            await self.session.execute(statement, [_keyed(row, values) for row in same_columns])

    async def settle(self, progress: Mapping[str, tuple[int, int]], now: datetime) -> None:
        for bulk_award_id in sorted(progress):
            await self._settle(bulk_award_id, *progress[bulk_award_id], now)

    async def _settle(self, bulk_award_id: str, awarded: int, failed: int, now: datetime) -> None:
        # Updating the job row first takes its lock, so the check for pending recipients
        # below sees every other worker's batch that settled before: the last one completes.
        job = table_of(BulkAwardRow)
        await self.session.execute(
            update(job)
            .where(job.c.id == bulk_award_id)
            .values(
                awarded_customers=job.c.awarded_customers + awarded,
                failed_customers=job.c.failed_customers + failed,
                status=BulkAwardStatus.RUNNING.value,
            )
        )
        pending = await self.session.scalar(
            select(
                exists().where(
                    BulkAwardRecipientRow.bulk_award_id == bulk_award_id,
                    BulkAwardRecipientRow.status == RecipientStatus.PENDING.value,
                )
            )
        )
        if not pending:
            await self.session.execute(
                update(job)
                .where(job.c.id == bulk_award_id)
                .values(status=BulkAwardStatus.COMPLETED.value, completed_at=now)
            )


def _status(held: bool) -> str:
    return (RecipientStatus.HOLDOUT if held else RecipientStatus.PENDING).value


def _holdout_status(
    bulk_award_id: str, customer_id: ColumnElement[str], holdout_percent: int
) -> ColumnElement[str]:
    """domain.campaigns.holdout_bucket in PostgreSQL's SQL: the first 32 bits of the
    SHA-256 of "<job>:<customer>", modulo the buckets, compared with the threshold."""
    keyed = func.convert_to(literal(f"{bulk_award_id}:") + customer_id, literal("UTF8"))
    digest = func.encode(func.sha256(keyed), literal("hex"))
    first_bits = cast(cast(literal("x") + func.substr(digest, 1, 8), BIT(32)), BigInteger)
    bucket = first_bits % HOLDOUT_BUCKETS
    return case(
        (bucket < holdout_threshold(holdout_percent), RecipientStatus.HOLDOUT.value),
        else_=RecipientStatus.PENDING.value,
    )


def _segment_query(segment: Segment) -> Subquery:
    query = select(CustomerRow.id)
    if segment.store_ids:
        shopped = select(SaleRow.customer_id).where(SaleRow.store_id.in_(segment.store_ids))
        query = query.where(CustomerRow.id.in_(shopped))
    if segment.enrolled_from is not None:
        query = query.where(CustomerRow.enrolled_at >= segment.enrolled_from)
    if segment.enrolled_until is not None:
        query = query.where(CustomerRow.enrolled_at < segment.enrolled_until)
    if segment.inactive_since is not None:
        recent = select(SaleRow.customer_id).where(SaleRow.occurred_at >= segment.inactive_since)
        query = query.where(CustomerRow.id.not_in(recent))
    return query.subquery()


RECIPIENT_KEY = ("bulk_award_id", "customer_id")


def _keyed(row: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """A row's parameters for an UPDATE by key (bind names must differ from columns)."""
    keys = {"key_job": row["bulk_award_id"], "key_customer": row["customer_id"]}
    return keys | {f"new_{column}": row[column] for column in values}


def _recipient_key(recipient: Recipient) -> dict[str, Any]:
    return {"bulk_award_id": recipient.bulk_award_id, "customer_id": recipient.customer_id}


def _grouped_by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """An UPDATE by primary key runs as one statement per set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def _job_values(job: BulkAward, fingerprint: str) -> dict[str, Any]:
    return columns_of(
        job,
        left_out=("created_by", "reverses_id"),
        fingerprint=fingerprint,
        status=job.status.value,
        reverses_bulk_award_id=job.reverses_id,
        **actor_columns("created_by", job.created_by),
    )


def bulk_award_of(row: BulkAwardRow) -> BulkAward:
    return record_of(
        BulkAward,
        row,
        status=BulkAwardStatus(row.status),
        created_by=actor_of(row, "created_by"),
        reverses_id=row.reverses_bulk_award_id,
    )
