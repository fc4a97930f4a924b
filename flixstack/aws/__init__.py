"""Thin AWS adapters: the client factory, repositories, stores, queues, streams."""
