"""Async use cases over the database and the control plane. They own transactions and return
plain read models (see `models`)."""
