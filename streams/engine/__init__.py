"""The running engine: processors that carry the core's decisions out, and the Faust app."""
