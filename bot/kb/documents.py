"""Load the document metadata that describes each protocol source."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from bot.kb.model import Document

_DOCUMENTS = TypeAdapter(list[Document])


class KnowledgeError(Exception):
    """The knowledge base is inconsistent; the message says where and how to fix it."""


def load_documents(path: Path) -> list[Document]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read document metadata: {exc}") from exc
    try:
        documents = _DOCUMENTS.validate_python(raw or [])
    except ValidationError as exc:
        raise KnowledgeError(f"{path}: invalid document metadata:\n{exc}") from exc
    seen: set[str] = set()
    for document in documents:
        if document.id in seen:
            raise KnowledgeError(f"{path}: document id {document.id!r} is listed twice")
        seen.add(document.id)
    return documents
