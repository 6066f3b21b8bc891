"""Local stand-ins for Salesforce and Custompms, faithful to their HTTP APIs."""
