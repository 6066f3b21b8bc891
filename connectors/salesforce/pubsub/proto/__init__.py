"""Generated Pub/Sub API modules (`make proto`, from pubsub_api.proto here).

The emulator has its own generated copy: it may not import the product.
"""
