"""The records sfpms can sync, in one place: the Salesforce objects it captures and writes,
and the Custompms resources it follows. Topics, capture, schemas, the dashboard and the
mapping's validation all derive from these lists; a mapping file chooses among them (a flow
naming another object is refused by `streams.mapping.build`, with these names).

Adding an entity means an entity schema (`schemas/`), a capture path and emulator support,
so it is a code change, not configuration.
"""

from __future__ import annotations

#: Salesforce sObjects, as the API spells them.
SALESFORCE_OBJECTS: tuple[str, ...] = ("Division", "Organization", "Task")
#: Custompms entities (singular, as in topic names and `source.entity`).
CUSTOMPMS_ENTITIES: tuple[str, ...] = ("customer", "project", "task")
#: Custompms API resource (plural, as in URLs and the change feed) -> entity.
RESOURCE_ENTITY: dict[str, str] = {f"{entity}s": entity for entity in CUSTOMPMS_ENTITIES}
#: Custompms entity -> API resource.
ENTITY_RESOURCE: dict[str, str] = {entity: resource for resource, entity in RESOURCE_ENTITY.items()}


def topic_name(sf_object: str) -> str:
    """A Salesforce object's spelling in topic names (`Division` -> `division`)."""
    return sf_object.lower()
