"""Free text from tills and administrators: labels (skus, categories, names) and the
optional references a till sends (terminal, sale), trimmed and bounded."""

from __future__ import annotations

from domain.errors import FieldPath, InvalidInput

MAX_LABEL_LENGTH = 100
MAX_REFERENCE = 100


def require_label(raw: str, field_path: FieldPath, *, what: str) -> str:
    label = raw.strip()
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"{what} must be 1 to {MAX_LABEL_LENGTH} characters", field_path)
    return label


def optional_reference(raw: str | None, field: str) -> str | None:
    """A terminal or sale reference: free text from the till, bounded, blank means none."""
    if raw is None or not raw.strip():
        return None
    if len(raw.strip()) > MAX_REFERENCE:
        raise InvalidInput(f"{field} must be at most {MAX_REFERENCE} characters", ("input", field))
    return raw.strip()
