"""One module per `sfpms` sub-command."""
