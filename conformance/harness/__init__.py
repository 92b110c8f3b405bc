"""Differential conformance harness: runs each case against natsd and nats-server."""
