"""Generated Pub/Sub API modules (`make proto`), the emulator's own copy."""
