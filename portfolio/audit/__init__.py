"""The append-only audit log: recording events and verifying their hash chain."""
