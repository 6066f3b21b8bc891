"""A local stand-in for the Salesforce REST API (v60.0 subset); see docs/salesforce-emulator.md."""

from emulators.salesforce.app import create_app
from emulators.salesforce.config import SalesforceEmulatorConfig
from emulators.salesforce.tls import ensure_certificate

__all__ = ["SalesforceEmulatorConfig", "create_app", "ensure_certificate"]
