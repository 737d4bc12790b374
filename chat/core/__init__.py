"""The core: storage, broker, hub, transport, identity, units of work. It imports no feature."""
