"""Who may call: the caller registry and its credentials."""
