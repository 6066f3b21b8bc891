"""The pure decision core: given a change, the link state and the mapping, decide the writes.

No I/O here: the Faust agents feed changes in and carry the decisions out
(docs/architecture.md explains the model: winners, known states, desired states).
"""
