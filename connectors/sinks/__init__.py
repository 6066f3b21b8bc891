"""Sink workers: apply write commands to Salesforce and Custompms, publish what was written."""
