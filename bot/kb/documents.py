"""Load the document metadata that describes each protocol source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from bot.kb.model import Document

_DOCUMENTS = TypeAdapter(list[Document])
# libyaml's loader reads the same YAML as the pure-Python one, several times faster; a build
# of PyYAML without libyaml falls back to the Python loader
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    """The safe loader, refusing a key written twice in one mapping: YAML would keep the
    last silently, so a flow author's second `next:` or `cite:` would hide the first."""


def _unique_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is written twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_keys)
_LOADER: type[yaml.SafeLoader] = _Loader


class KnowledgeError(Exception):
    """The knowledge base is inconsistent; the message says where and how to fix it."""


def read_yaml(path: Path, what: str) -> Any:
    """A data file an administrator edits, or a KnowledgeError naming the file and the fault."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read {what}: {exc}") from exc


def load_documents(path: Path) -> list[Document]:
    raw = read_yaml(path, "document metadata")
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
