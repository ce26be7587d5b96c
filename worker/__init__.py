"""Processes: the `atencion` CLI, and (later) the Dramatiq broker, actors and scheduler."""
