"""The platform's side, simulated as its own process: `imtui control-plane serve` (server.py) over
its own store (store.py). It imports nothing of imtui's layers; imtui reaches it over HTTP only."""
