"""Stored files: the evidence store, file types checked by content, uploads and serving.

Shared by every feature that keeps a file (evidence, gap sign-offs, exports, backups); it knows
nothing of them.
"""
