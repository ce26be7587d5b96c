"""Inbound mail: parse raw messages, classify them and turn them into tickets or comments."""
