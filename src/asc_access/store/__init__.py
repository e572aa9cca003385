"""The local store: the mirror, its history, connections and the audit log."""
