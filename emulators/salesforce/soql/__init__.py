"""A SOQL subset: parse (`parse`) and run (`execute`) SELECT queries against the store."""

from emulators.salesforce.soql.errors import SoqlError
from emulators.salesforce.soql.evaluate import QueryResult, execute
from emulators.salesforce.soql.parser import parse

__all__ = ["QueryResult", "SoqlError", "execute", "parse"]
