"""The sync engine: the pure mapping and decision core, and the Faust app that runs it."""
